using System.Buffers;
using System.Globalization;
using static Platform.Engine.Boot.Disk.GrubScript;

namespace Platform.Engine.Boot.Disk;

/// <summary>
/// Reads a GRUB 2 grub.cfg as grub-mkconfig writes it (Debian, Ubuntu, Fedora before BLS) without running it:
/// the menu's <c>menuentry</c> and <c>submenu</c> blocks, and <c>set</c> assignments taken in file order (both
/// branches of an <c>if</c> included, since conditions are not evaluated) over the variables of grubenv. The default
/// is <c>set default=</c>'s last value that evaluates to something (a number, a "1>2" path into a submenu, an id or a
/// title), else the first entry. From the chosen entry come the first <c>linux</c> and <c>initrd</c> commands and
/// where its <c>search --fs-uuid --set=root</c> or <c>set root=</c> points. What cannot be evaluated is left out and
/// said in a note.
/// </summary>
internal static class GrubConfig
{
    /// <summary>Where grub.cfg lives: on a root file system under /boot, or at the top of a separate /boot partition.</summary>
    public static readonly string[] Paths = ["/boot/grub/grub.cfg", "/grub/grub.cfg", "/boot/grub2/grub.cfg", "/grub2/grub.cfg"];

    private const int MaxMenuItems = 1000;

    /// <summary>A menu item: an entry (with its commands) or a submenu (with its items).</summary>
    internal sealed record MenuItem(string Title, string? Id, IReadOnlyList<Command> Body, IReadOnlyList<MenuItem>? Children);

    /// <summary>Chooses the default entry of a grub.cfg; null when the menu has no Linux entry.</summary>
    /// <param name="environment">grubenv's variables (saved_entry, next_entry, kernelopts…).</param>
    public static BootEntry? Parse(string path, string text, IReadOnlyDictionary<string, string> environment, List<string> notes)
    {
        var commands = GrubScript.Parse(text, notes);
        var evaluator = new GrubEvaluator(environment);
        string? defaultEntry = null;
        var menu = new List<MenuItem>();
        bool blscfg = false;
        foreach (var (command, runs) in evaluator.Walk(commands))
        {
            switch (command.Name)
            {
                case "menuentry" or "submenu" when command.Block is not null && menu.Count < MaxMenuItems:
                    menu.Add(ReadMenuItem(command, evaluator));
                    break;
                case "function":
                    break; // a function's body runs only when called
                case "blscfg":
                    blscfg = true;
                    break;
                default:
                    foreach (var (name, value) in Assignments(command, evaluator))
                    {
                        // Where a condition cannot be evaluated both branches are taken, in order; for the default,
                        // an empty value there is not what GRUB would end up with.
                        if (value is null || (runs == Certainty.Maybe && name == "default" && value.Length == 0))
                        {
                            continue;
                        }

                        if (name == "default")
                        {
                            defaultEntry = value;
                        }
                        else
                        {
                            evaluator.Set(name, value);
                        }
                    }

                    break;
            }
        }

        if (menu.Count == 0)
        {
            notes.Add(blscfg
                ? $"{path}: the menu comes from Boot Loader Spec entries (blscfg), and none were found"
                : $"{path}: no menuentry");
            return null;
        }

        var chosen = Choose(menu, string.IsNullOrEmpty(defaultEntry) ? "0" : defaultEntry, path, notes);
        if (chosen is null)
        {
            notes.Add($"{path}: no menuentry boots a Linux kernel");
            return null;
        }

        return ReadEntry(path, chosen, evaluator.Variables, notes);
    }

    /// <summary>The assignments a command makes (<c>set a=b</c> or <c>a=b</c>); a value that cannot be evaluated is null.</summary>
    private static IEnumerable<(string Name, string? Value)> Assignments(Command command, GrubEvaluator evaluator)
    {
        var words = command.Name == "set" ? command.Words.Skip(1) : command.Words.Take(1);
        foreach (var word in words)
        {
            // The name is literal text before the first '='; the rest is the value, variables and all.
            if (word.Segments.Count == 0 || word.Segments[0].IsVariable)
            {
                continue;
            }

            string first = word.Segments[0].Text;
            int equals = first.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || !IsVariableName(first.AsSpan(0, equals)))
            {
                continue;
            }

            var valueWord = new Word([new Segment(first[(equals + 1)..], false), .. word.Segments.Skip(1)]);
            yield return (first[..equals], evaluator.Evaluate(valueWord));
        }
    }

    private static MenuItem ReadMenuItem(Command command, GrubEvaluator evaluator)
    {
        string? title = null, id = null;
        for (int i = 1; i < command.Words.Count; i++)
        {
            var word = command.Words[i];
            string? literal = word.Literal;
            if (word.IsOnly("menuentry_id_option") || literal == "--id")
            {
                // grub-mkconfig writes `$menuentry_id_option 'gnulinux-…'`, the option being --id where GRUB knows it.
                if (i + 1 < command.Words.Count)
                {
                    id = evaluator.Evaluate(command.Words[++i]);
                }
            }
            else if (literal is not null && literal.StartsWith("--id=", StringComparison.Ordinal))
            {
                id = literal[5..];
            }
            else if (literal is "--class" or "--users" or "--hotkey" or "--source")
            {
                i++; // the option's value
            }
            else if (literal is not null && literal.StartsWith("--", StringComparison.Ordinal))
            {
                // --unrestricted, --class=x and the like
            }
            else
            {
                title ??= evaluator.Evaluate(word) ?? word.Literal ?? "";
            }
        }

        title ??= "";
        IReadOnlyList<MenuItem>? children = null;
        if (command.Name == "submenu")
        {
            children = [.. evaluator.Walk(command.Block!).ToList().Select(c => c.Command)
                .Where(c => c.Name is "menuentry" or "submenu" && c.Block is not null)
                .Take(MaxMenuItems).Select(c => ReadMenuItem(c, evaluator))];
        }

        return new MenuItem(title, id, command.Block!, children);
    }

    /// <summary>The entry <paramref name="wanted"/> names ("2", "1>0", an id or a title, '>' descending into submenus).</summary>
    private static MenuItem? Choose(List<MenuItem> menu, string wanted, string path, List<string> notes)
    {
        IReadOnlyList<MenuItem> level = menu;
        MenuItem? item = null;
        foreach (string part in wanted.Split('>'))
        {
            item = int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int index)
                ? index < level.Count ? level[index] : null
                : level.FirstOrDefault(m => m.Id == part) ?? level.FirstOrDefault(m => m.Title == part);
            if (item is null)
            {
                break;
            }

            level = item.Children ?? [];
        }

        if (item is null)
        {
            notes.Add($"{path}: default \"{wanted}\" names no entry; the first Linux entry is booted");
        }

        // A submenu chosen as a whole opens on its first entry.
        while (item?.Children is { } children)
        {
            item = children.Count > 0 ? children[0] : null;
        }

        if (item is not null && !HasLinux(item))
        {
            notes.Add($"{path}: the default entry '{item.Title}' boots no Linux kernel; the first Linux entry is booted");
            item = null;
        }

        return item ?? AllEntries(menu).FirstOrDefault(HasLinux);
    }

    private static IEnumerable<MenuItem> AllEntries(IEnumerable<MenuItem> items) =>
        items.SelectMany(i => i.Children is { } children ? AllEntries(children) : [i]);

    private static bool HasLinux(MenuItem item) => item.Children is null && item.Body.Any(c => c.Words.Any(w => IsLinux(w.Literal ?? "")));

    private static bool IsLinux(string name) => name is "linux" or "linuxefi" or "linux16";

    private static bool IsInitrd(string name) => name is "initrd" or "initrdefi" or "initrd16";

    private static BootEntry? ReadEntry(string path, MenuItem entry, IReadOnlyDictionary<string, string> topLevel, List<string> notes)
    {
        var evaluator = new GrubEvaluator(topLevel);
        var unset = new SortedSet<string>(StringComparer.Ordinal);
        var unknown = new SortedSet<string>(StringComparer.Ordinal);
        Guid? rootUuid = null;
        int? rootPartition = null;
        string? kernel = null;
        var arguments = new List<string>();
        var initrds = new List<string>();

        string? Value(Word word)
        {
            string? value = evaluator.Evaluate(word, unset);
            if (value is null)
            {
                foreach (var segment in word.Segments.Where(s => s.IsVariable && GrubEvaluator.IsGrubRuntime(s.Text)))
                {
                    unknown.Add(segment.Text);
                }
            }

            return value;
        }

        foreach (var (command, _) in evaluator.Walk(entry.Body))
        {
            var words = command.Words.Skip(1).ToList();
            if (IsLinux(command.Name) && kernel is null && words.Count > 0)
            {
                // A path that needs GRUB's own variables ("($root)/vmlinuz" with root unset) keeps the rest.
                kernel = Value(words[0]) ?? words[0].Evaluate(evaluator.Variables, []);
                foreach (var word in words.Skip(1))
                {
                    if (Value(word) is not null)
                    {
                        arguments.AddRange(word.Fields(evaluator.Variables, []).Where(f => f.Length > 0));
                    }
                }
            }
            else if (IsInitrd(command.Name) && initrds.Count == 0)
            {
                initrds.AddRange(words.Select(w => Value(w) ?? w.Evaluate(evaluator.Variables, [])).Where(v => v.Length > 0));
            }
            else if (command.Name is "search" or "search.fs_uuid")
            {
                if (ReadSearch(command) is { } uuid)
                {
                    rootUuid = uuid;
                    rootPartition = null;
                }
            }
            else
            {
                foreach (var (name, value) in Assignments(command, evaluator))
                {
                    if (value is null)
                    {
                        continue;
                    }

                    if (name == "root" && ParsePartition(value) is { } partition)
                    {
                        rootPartition = partition;
                        rootUuid = null;
                    }

                    evaluator.Set(name, value);
                }
            }
        }

        var entryNotes = new List<string>();
        entryNotes.AddRange(unset.Select(name => $"{path}: ${name} has no value; left out"));
        entryNotes.AddRange(unknown.Select(name => $"{path}: ${name} is known only to GRUB at boot; left out"));
        notes.AddRange(entryNotes);
        if (string.IsNullOrEmpty(kernel))
        {
            notes.Add($"{path}: entry '{entry.Title}': the linux command names no kernel that can be evaluated");
            return null;
        }

        // A "(hd0,msdos1)/vmlinuz" or "($root)/vmlinuz" prefix names the device; the path follows it.
        if (kernel.StartsWith('(') && kernel.IndexOf(')', StringComparison.Ordinal) is var close and > 0)
        {
            if (ParsePartition(kernel[..(close + 1)]) is { } partition)
            {
                rootPartition = partition;
                rootUuid = null;
            }

            kernel = kernel[(close + 1)..];
        }

        return new BootEntry
        {
            Source = $"GRUB {path}, entry '{entry.Title}'",
            Kernel = kernel,
            Initrds = initrds,
            // GRUB passes each argument on, quoting those with spaces in them.
            CommandLine = string.Join(' ', arguments.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"\"{a.Replace("\"", "\\\"", StringComparison.Ordinal)}\"" : a)),
            RootUuid = rootUuid,
            RootPartition = rootPartition,
            Notes = entryNotes,
        };
    }

    /// <summary>The file system UUID of <c>search --fs-uuid --set=root UUID</c> or <c>search.fs_uuid UUID root</c>; null for other searches.</summary>
    private static Guid? ReadSearch(Command command)
    {
        var words = command.Words.Select(w => w.Literal).ToList();
        if (command.Name == "search.fs_uuid")
        {
            return words.Count >= 3 && words[2] == "root" && Guid.TryParse(words[1], out var uuid) ? uuid : null;
        }

        bool byUuid = false, setsRoot = false;
        string? target = null;
        for (int i = 1; i < words.Count; i++)
        {
            string? word = words[i];
            switch (word)
            {
                case "--fs-uuid" or "-u":
                    byUuid = true;
                    break;
                case "--set=root":
                    setsRoot = true;
                    break;
                case "--set" or "-s":
                    setsRoot = i + 1 < words.Count && words[i + 1] == "root" ? (++i > 0) : true;
                    break;
                case not null when word.StartsWith('-'):
                    break;
                default:
                    target = word;
                    break;
            }
        }

        return byUuid && setsRoot && Guid.TryParse(target, out var found) ? found : null;
    }

    /// <summary>GRUB's partition names: hd0,msdos1, hd0,gpt2, (hd0,3): the number is Linux's partition number.</summary>
    public static int? ParsePartition(string device)
    {
        var text = device.AsSpan().Trim();
        if (text.StartsWith('(') && text.EndsWith(')'))
        {
            text = text[1..^1];
        }

        int comma = text.IndexOf(',');
        if (comma < 0 || !text.StartsWith("hd") || !IsDigits(text[2..comma]))
        {
            return null;
        }

        var partition = text[(comma + 1)..];
        if (partition.StartsWith("msdos"))
        {
            partition = partition[5..];
        }
        else if (partition.StartsWith("gpt"))
        {
            partition = partition[3..];
        }

        return IsDigits(partition) && int.TryParse(partition, NumberStyles.None, CultureInfo.InvariantCulture, out int number) ? number : null;
    }

    private static bool IsDigits(ReadOnlySpan<char> text) => !text.IsEmpty && !text.ContainsAnyExceptInRange('0', '9');

    private static bool IsVariableName(ReadOnlySpan<char> name) =>
        !name.IsEmpty && (char.IsAsciiLetter(name[0]) || name[0] == '_')
        && name.IndexOfAnyExcept(NameCharacters) < 0;

    private static readonly SearchValues<char> NameCharacters =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
}
