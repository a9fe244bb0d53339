namespace Platform.Engine.Boot.Disk;

/// <summary>
/// Boot Loader Specification type #1 entries (<c>/loader/entries/*.conf</c> on a boot partition, or
/// <c>/boot/loader/entries/*.conf</c> on a root file system), as systemd-boot and GRUB's blscfg (Fedora, RHEL) read
/// them: "key value" lines; <c>linux</c>, <c>initrd</c> (repeatable), <c>options</c> (repeatable, joined). The entry
/// booted is loader.conf's <c>default</c> pattern, else grubenv's saved_entry, else the first in the specification's
/// order: entries with a sort-key first (by sort-key, machine-id, then newest version), then the rest by file name,
/// newest version first.
/// </summary>
internal static class LoaderSpecEntries
{
    public const int MaxEntries = 256;
    public const int MaxLineCount = 1000;

    /// <summary>An entry file is a few lines; 256 of them at the general 1 MiB would be a lot to read for nothing.</summary>
    public const int MaxEntryBytes = 64 * 1024;

    /// <summary>One parsed entry file.</summary>
    internal sealed record Entry(string Id, string FileName)
    {
        public string? Title { get; init; }

        public string? Version { get; init; }

        public string? MachineId { get; init; }

        public string? SortKey { get; init; }

        public string? Linux { get; init; }

        public string? Efi { get; init; }

        public string? Architecture { get; init; }

        public IReadOnlyList<string> Initrds { get; init; } = [];

        public IReadOnlyList<string> Options { get; init; } = [];
    }

    /// <summary>Parses one <c>.conf</c> file; unknown keys are ignored, as the specification says.</summary>
    public static Entry Parse(string fileName, string text)
    {
        string id = fileName.EndsWith(".conf", StringComparison.Ordinal) ? fileName[..^5] : fileName;
        var entry = new Entry(id, fileName);
        var initrds = new List<string>();
        var options = new List<string>();
        foreach (string raw in text.Split('\n').Take(MaxLineCount))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            int space = line.IndexOfAny([' ', '\t']);
            string key = space < 0 ? line : line[..space];
            string value = space < 0 ? "" : line[(space + 1)..].Trim();
            entry = key switch
            {
                "title" => entry with { Title = value },
                "version" => entry with { Version = value },
                "machine-id" => entry with { MachineId = value },
                "sort-key" => entry with { SortKey = value },
                "linux" => entry with { Linux = value },
                "efi" => entry with { Efi = value },
                "architecture" => entry with { Architecture = value },
                _ => entry,
            };
            if (key == "initrd" && value.Length > 0)
            {
                initrds.AddRange(value.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries));
            }
            else if (key == "options" && value.Length > 0)
            {
                options.Add(value);
            }
        }

        return entry with { Initrds = initrds, Options = options };
    }

    /// <summary>The specification's menu order (the first is the default without a loader.conf or saved entry).</summary>
    public static List<Entry> Sort(IEnumerable<Entry> entries) =>
    [
        .. entries
            .OrderBy(e => e.SortKey is null ? 1 : 0)
            .ThenBy(e => e.SortKey, StringComparer.Ordinal)
            .ThenBy(e => e.SortKey is null ? null : e.MachineId, StringComparer.Ordinal)
            .ThenByDescending(e => e.SortKey is null ? null : e.Version, VersionComparer.Instance)
            .ThenByDescending(e => e.Id, VersionComparer.Instance),
    ];

    /// <summary>
    /// Chooses among parsed entries: those for another architecture or without a Linux kernel (unified kernel images,
    /// EFI programs) are dropped with a note. Returns null when none is left.
    /// </summary>
    public static Entry? Choose(IEnumerable<Entry> entries, string? defaultPattern, string? savedEntry, List<string> notes)
    {
        var usable = new List<Entry>();
        foreach (var entry in entries)
        {
            if (entry.Architecture is { } arch && !arch.Equals("x64", StringComparison.OrdinalIgnoreCase))
            {
                notes.Add($"{entry.FileName}: for architecture {arch}, not x64; skipped");
            }
            else if (entry.Linux is null)
            {
                notes.Add(entry.Efi is null
                    ? $"{entry.FileName}: no linux line; skipped"
                    : $"{entry.FileName}: boots an EFI program ({entry.Efi}), which needs firmware; skipped");
            }
            else
            {
                usable.Add(entry);
            }
        }

        var sorted = Sort(usable);
        if (sorted.Count == 0)
        {
            return null;
        }

        if (defaultPattern is { Length: > 0 } pattern)
        {
            if (pattern.StartsWith('@'))
            {
                notes.Add($"loader.conf: default {pattern} needs the firmware's saved state; the first entry is booted");
            }
            else if (sorted.FirstOrDefault(e => Glob.Matches(pattern, e.Id) || Glob.Matches(pattern, e.FileName)) is { } chosen)
            {
                return chosen;
            }
            else
            {
                notes.Add($"loader.conf: default {pattern} matches no entry; the first entry is booted");
            }
        }
        else if (savedEntry is { Length: > 0 } saved)
        {
            if (sorted.FirstOrDefault(e => e.Id == saved) is { } chosen)
            {
                return chosen;
            }

            notes.Add($"grubenv: saved_entry {saved} matches no entry; the first entry is booted");
        }

        return sorted[0];
    }

    /// <summary>Looks for entries on one file system and turns the chosen one into a <see cref="BootEntry"/>; null when there are none.</summary>
    public static BootEntry? Find(IBootFileSystem fs, ConfigReader read, List<string> notes)
    {
        foreach (string root in (ReadOnlySpan<string>)["", "/boot"])
        {
            string folder = $"{root}/loader/entries";
            if (fs.ListDirectory(folder) is not { } names)
            {
                continue;
            }

            var files = names.Where(n => n.EndsWith(".conf", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
            if (files.Count > MaxEntries)
            {
                notes.Add($"{folder}: {files.Count} entries; only the first {MaxEntries} are read");
                files = files[..MaxEntries];
            }

            var entries = files.Select(f => DiskBoot.ReadText(fs, $"{folder}/{f}", MaxEntryBytes) is { } text ? Parse(f, text) : null)
                .OfType<Entry>().ToList();
            string? pattern = read($"{root}/loader/loader.conf") is { } loaderConf ? DefaultPattern(loaderConf) : null;
            var environment = GrubEnvironment.Read(read);
            var local = new List<string>();
            var chosen = Choose(entries, pattern, environment.GetValueOrDefault("saved_entry"), local);
            notes.AddRange(local.Select(n => $"{folder}/{n}"));
            if (chosen is null)
            {
                continue;
            }

            var unresolved = new SortedSet<string>(StringComparer.Ordinal);
            string options = GrubEnvironment.Tidy(GrubEnvironment.Expand(string.Join(' ', chosen.Options), environment, unresolved));
            var initrds = chosen.Initrds.Select(i => GrubEnvironment.Expand(i, environment, unresolved)).Where(i => i.Length > 0).ToList();
            // ($root) prefixes name GRUB's device, which is the partition searched here anyway.
            unresolved.Remove("root");
            var entryNotes = unresolved.Select(v => $"{folder}/{chosen.FileName}: ${v} has no value in grubenv; left out").ToList();
            return new BootEntry
            {
                Source = $"Boot Loader Spec entry {folder}/{chosen.FileName}" + (chosen.Title is { } t ? $" ('{t}')" : ""),
                Kernel = chosen.Linux!,
                Initrds = initrds,
                CommandLine = options,
                // Paths are relative to the partition holding the entries, which is /boot when they sit under /boot.
                RelativeTo = root.Length == 0 ? null : root,
                Notes = entryNotes,
            };
        }

        return null;
    }

    private static string? DefaultPattern(string loaderConf)
    {
        foreach (string raw in loaderConf.Split('\n').Take(MaxLineCount))
        {
            string line = raw.Trim();
            if (line.StartsWith("default", StringComparison.Ordinal) && line.Length > 7 && char.IsWhiteSpace(line[7]))
            {
                return line[8..].Trim();
            }
        }

        return null;
    }
}

/// <summary>Shell-style patterns with * and ? (loader.conf's default), matched without backtracking blow-up.</summary>
internal static class Glob
{
    public static bool Matches(string pattern, string text)
    {
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t]))
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
