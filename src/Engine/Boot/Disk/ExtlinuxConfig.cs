namespace Platform.Engine.Boot.Disk;

/// <summary>
/// extlinux/syslinux configuration (also what U-Boot's distro boot reads): LABEL blocks with KERNEL or LINUX, INITRD
/// (comma-separated) and APPEND; DEFAULT names the label (or, naming none, is itself a kernel and its options);
/// MENU DEFAULT inside a label wins over it; a global APPEND serves labels without their own; INCLUDE reads another
/// file (a few levels deep). Keywords are case-insensitive. Relative paths are relative to the file's folder.
/// </summary>
internal static class ExtlinuxConfig
{
    /// <summary>Where the configuration lives: on a root file system, and at the top of a separate /boot partition.</summary>
    public static readonly string[] Paths =
    [
        "/boot/extlinux/extlinux.conf", "/extlinux/extlinux.conf", "/extlinux.conf", "/boot/extlinux.conf",
        "/boot/syslinux/syslinux.cfg", "/syslinux/syslinux.cfg", "/syslinux.cfg", "/boot/syslinux.cfg",
    ];

    private const int MaxIncludeDepth = 4;
    private const int MaxLines = 10_000;

    private sealed class Label(string name)
    {
        public string Name { get; } = name;

        public string? Kernel { get; set; }

        public string? Initrd { get; set; }

        public string? Append { get; set; }

        public bool NotLinux { get; set; }
    }

    private sealed class State
    {
        public List<Label> Labels { get; } = [];

        public string? Default { get; set; }

        public string? OnTimeout { get; set; }

        public string? MenuDefault { get; set; }

        public string? GlobalAppend { get; set; }

        public string? GlobalInitrd { get; set; }

        public int Lines { get; set; }
    }

    /// <summary>Parses the configuration at <paramref name="path"/> and chooses its default Linux label; null when it boots no Linux kernel.</summary>
    /// <param name="read">Reads an INCLUDEd file (absolute path), null when it is missing.</param>
    public static BootEntry? Parse(string path, string text, ConfigReader read, List<string> notes)
    {
        string folder = Folder(path);
        var state = new State();
        ParseInto(state, text, folder, read, depth: 0, notes);

        Label? chosen = null;
        string how;
        if (state.MenuDefault is { } menuDefault)
        {
            chosen = Find(state, menuDefault);
            how = "MENU DEFAULT";
        }
        else
        {
            string? wanted = state.Default ?? state.OnTimeout;
            how = state.Default is not null ? "DEFAULT" : "ONTIMEOUT";
            if (wanted is not null)
            {
                chosen = Find(state, wanted);
                if (chosen is null)
                {
                    // syslinux: a DEFAULT that names no label is a command line: a kernel and its options.
                    string[] words = wanted.Split([' ', '\t'], 2, StringSplitOptions.RemoveEmptyEntries);
                    if (words.Length > 0)
                    {
                        chosen = new Label(wanted) { Kernel = words[0], Append = words.Length > 1 ? words[1] : state.GlobalAppend };
                        notes.Add($"{path}: {how} {wanted} names no label; booted as a kernel and its options");
                    }
                }
            }
        }

        if (chosen is not null && (chosen.NotLinux || chosen.Kernel is null))
        {
            notes.Add($"{path}: the {how} label {chosen.Name} boots no Linux kernel; the first Linux label is booted");
            chosen = null;
        }

        chosen ??= state.Labels.FirstOrDefault(l => !l.NotLinux && l.Kernel is not null);
        if (chosen is null)
        {
            notes.Add($"{path}: no label boots a Linux kernel");
            return null;
        }

        string append = chosen.Append ?? state.GlobalAppend ?? "";
        if (append == "-")
        {
            append = "";
        }

        // syslinux takes initrd= from the options too, when INITRD is not given.
        string? initrd = chosen.Initrd ?? state.GlobalInitrd;
        var options = new List<string>();
        foreach (string word in append.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (word.StartsWith("initrd=", StringComparison.Ordinal))
            {
                initrd ??= word[7..];
            }
            else
            {
                options.Add(word);
            }
        }

        return new BootEntry
        {
            Source = $"extlinux {path}, label {chosen.Name}",
            Kernel = chosen.Kernel!,
            Initrds = initrd is null ? [] : [.. initrd.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
            CommandLine = string.Join(' ', options),
            RelativeTo = folder,
        };
    }

    private static void ParseInto(State state, string text, string folder, ConfigReader read, int depth, List<string> notes)
    {
        Label? current = null;
        foreach (string raw in text.Split('\n'))
        {
            if (++state.Lines > MaxLines)
            {
                notes.Add($"extlinux: more than {MaxLines} lines; the rest are ignored");
                return;
            }

            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            string[] parts = line.Split([' ', '\t'], 2, StringSplitOptions.RemoveEmptyEntries);
            string keyword = parts[0].ToUpperInvariant();
            string argument = parts.Length > 1 ? parts[1].Trim() : "";
            switch (keyword)
            {
                case "LABEL":
                    current = new Label(argument);
                    state.Labels.Add(current);
                    break;
                case "DEFAULT":
                    state.Default = argument;
                    break;
                case "ONTIMEOUT":
                    state.OnTimeout = argument;
                    break;
                case "MENU":
                    string[] menu = argument.Split([' ', '\t'], 2, StringSplitOptions.RemoveEmptyEntries);
                    if (menu.Length > 0 && menu[0].Equals("DEFAULT", StringComparison.OrdinalIgnoreCase) && current is not null)
                    {
                        state.MenuDefault = current.Name;
                    }

                    break;
                case "KERNEL" or "LINUX":
                    if (current is not null)
                    {
                        current.Kernel = argument.Split([' ', '\t'], 2)[0];
                        // KERNEL runs whatever it names: a COM32 module or boot sector is not a Linux kernel.
                        current.NotLinux = keyword == "KERNEL" && IsNotLinux(current.Kernel);
                        if (argument.Contains(' ', StringComparison.Ordinal))
                        {
                            current.Append ??= argument.Split([' ', '\t'], 2)[1].Trim();
                        }
                    }

                    break;
                case "INITRD":
                    if (current is not null)
                    {
                        current.Initrd = argument;
                    }
                    else
                    {
                        state.GlobalInitrd = argument;
                    }

                    break;
                case "APPEND":
                    if (current is not null)
                    {
                        current.Append = argument;
                    }
                    else
                    {
                        state.GlobalAppend = argument;
                    }

                    break;
                case "LOCALBOOT" or "COM32" or "CONFIG" or "BOOT" or "BSS" or "PXE" or "FDIMAGE" or "COMBOOT":
                    if (current is not null)
                    {
                        current.NotLinux = true;
                    }

                    break;
                case "INCLUDE":
                    string include = Combine(folder, argument.Split([' ', '\t'], 2)[0]);
                    if (depth >= MaxIncludeDepth)
                    {
                        notes.Add($"extlinux: INCLUDE {include} nested more than {MaxIncludeDepth} deep; ignored");
                    }
                    else if (read(include) is { } included)
                    {
                        ParseInto(state, included, folder, read, depth + 1, notes);
                    }
                    else
                    {
                        notes.Add($"extlinux: INCLUDE {include} not found; ignored");
                    }

                    break;
            }
        }
    }

    private static Label? Find(State state, string name) =>
        state.Labels.FirstOrDefault(l => l.Name == name) ?? state.Labels.FirstOrDefault(l => l.Name.Equals(name, StringComparison.OrdinalIgnoreCase));

    private static bool IsNotLinux(string kernel)
    {
        string extension = Path.GetExtension(kernel).ToUpperInvariant();
        return extension is ".C32" or ".CBT" or ".BSS" or ".BS" or ".BIN" or ".COM" or ".0";
    }

    public static string Folder(string path)
    {
        int slash = path.LastIndexOf('/');
        return slash <= 0 ? "/" : path[..slash];
    }

    public static string Combine(string folder, string path) =>
        path.StartsWith('/') ? path : folder.TrimEnd('/') + "/" + path;
}
