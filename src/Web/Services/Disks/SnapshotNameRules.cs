namespace Platform.Web.Services.Disks;

/// <summary>
/// A snapshot's name: 1 to 64 letters, digits, '-', '_' and '.', not all digits. qcow2 itself allows any bytes, but the
/// name travels in URLs and <c>qemu-img snapshot -a</c> takes an all-digit name for a snapshot id.
/// </summary>
public static class SnapshotNameRules
{
    public const int MaxLength = 64;

    public static string? Check(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return "A snapshot needs a name.";
        }

        if (name.Length > MaxLength)
        {
            return $"A snapshot name has at most {MaxLength} characters.";
        }

        if (!name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') || name is "." or "..")
        {
            return "A snapshot name uses letters, digits, '-', '_' and '.', like before-upgrade.";
        }

        return name.All(char.IsAsciiDigit) ? "A snapshot name is not all digits (qemu-img would take it for a snapshot id)." : null;
    }
}
