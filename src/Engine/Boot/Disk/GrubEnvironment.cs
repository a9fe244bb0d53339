using System.Text;

namespace Platform.Engine.Boot.Disk;

/// <summary>
/// GRUB's environment block (grubenv: "# GRUB Environment Block", then name=value lines, padded with '#' to 1 KiB),
/// where GRUB keeps saved_entry, next_entry and, on Fedora, kernelopts. Also expands $name and ${name} in text the way
/// GRUB's blscfg does for Boot Loader Spec options.
/// </summary>
internal static class GrubEnvironment
{
    /// <summary>Where grubenv lives beside grub.cfg: on a root file system under /boot, or at the top of a /boot partition.</summary>
    public static readonly string[] Paths = ["/boot/grub/grubenv", "/grub/grubenv", "/boot/grub2/grubenv", "/grub2/grubenv"];

    public static Dictionary<string, string> Parse(string text)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            int equals = line.IndexOf('=', StringComparison.Ordinal);
            if (line.StartsWith('#') || equals <= 0)
            {
                continue;
            }

            // grubenv escapes '\' and newlines in values with a backslash.
            var value = new StringBuilder();
            for (int i = equals + 1; i < line.Length; i++)
            {
                if (line[i] == '\\' && i + 1 < line.Length)
                {
                    i++;
                    value.Append(line[i] == 'n' ? '\n' : line[i]);
                }
                else
                {
                    value.Append(line[i]);
                }
            }

            variables[line[..equals]] = value.ToString();
        }

        return variables;
    }

    /// <summary>The first grubenv found on the file system, parsed; empty when there is none.</summary>
    public static Dictionary<string, string> Read(ConfigReader read)
    {
        foreach (string path in Paths)
        {
            if (read(path) is { } text)
            {
                return Parse(text);
            }
        }

        return new Dictionary<string, string>(StringComparer.Ordinal);
    }

    /// <summary>Replaces $name and ${name} with their values; names with no value become nothing and are listed in <paramref name="unresolved"/>.</summary>
    public static string Expand(string text, IReadOnlyDictionary<string, string> variables, ICollection<string> unresolved)
    {
        if (!text.Contains('$', StringComparison.Ordinal))
        {
            return text;
        }

        var result = new StringBuilder();
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] != '$' || i + 1 >= text.Length)
            {
                result.Append(text[i]);
                continue;
            }

            int start, end;
            if (text[i + 1] == '{')
            {
                start = i + 2;
                end = text.IndexOf('}', start);
                if (end < 0)
                {
                    result.Append(text[i]);
                    continue;
                }

                i = end;
            }
            else
            {
                start = i + 1;
                end = start;
                while (end < text.Length && (char.IsAsciiLetterOrDigit(text[end]) || text[end] == '_'))
                {
                    end++;
                }

                if (end == start)
                {
                    result.Append(text[i]);
                    continue;
                }

                i = end - 1;
            }

            string name = text[start..end];
            if (variables.TryGetValue(name, out string? value))
            {
                result.Append(value);
            }
            else
            {
                unresolved.Add(name);
            }
        }

        return result.ToString();
    }

    /// <summary>Collapses the runs of spaces an expansion to nothing leaves.</summary>
    public static string Tidy(string commandLine) =>
        string.Join(' ', commandLine.Split([' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries));
}
