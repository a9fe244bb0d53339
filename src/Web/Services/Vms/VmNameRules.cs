namespace Platform.Web.Services.Vms;

/// <summary>
/// What a VM name may be: 1 to 63 characters of ASCII letters, digits, '-', '_' and '.', starting with a letter
/// or digit — safe as a folder name, in a URL and as a host name label. Uniqueness ignores case (the database
/// column is NOCASE); <see cref="VmService"/> checks it.
/// </summary>
public static class VmNameRules
{
    public const int MaxLength = 63;

    /// <summary>The problem with <paramref name="name"/> in words, or null when it is a valid name.</summary>
    public static string? Check(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "A name is required.";
        }

        if (name.Length > MaxLength)
        {
            return $"A name has at most {MaxLength} characters (this one has {name.Length}).";
        }

        if (!char.IsAsciiLetterOrDigit(name[0]))
        {
            return "A name starts with a letter or a digit.";
        }

        foreach (char c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.'))
            {
                return $"A name may contain only letters, digits, '-', '_' and '.' (not '{c}').";
            }
        }

        return null;
    }
}
