namespace Platform.Web.Services.Images;

/// <summary>
/// A library file name: 1 to 255 characters of ASCII letters, digits, '.', '-', '_' and '+', not starting with
/// '.' — never a path, never hidden, the same on every file system. Unique without regard to case.
/// </summary>
public static class ImageFileNameRules
{
    public const int MaxLength = 255;

    public static string? Check(string? fileName)
    {
        if (string.IsNullOrEmpty(fileName))
        {
            return "A file name is required.";
        }

        if (fileName.Length > MaxLength)
        {
            return $"A file name has at most {MaxLength} characters.";
        }

        if (fileName[0] == '.')
        {
            return "A file name may not start with '.'.";
        }

        return fileName.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '+')
            ? null
            : "A file name may contain only letters, digits, '.', '-', '_' and '+'.";
    }
}
