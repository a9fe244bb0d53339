using System.Globalization;
using System.Security.Cryptography;

namespace Platform.Web.Services.Vms;

/// <summary>
/// NIC MAC addresses: generated in QEMU's <c>52:54:00</c> prefix (the locally administered bit set, the multicast
/// bit clear, so it never clashes with a vendor's address), and user-given ones checked and normalized.
/// </summary>
public static class MacAddresses
{
    public const string GeneratedPrefix = "52:54:00";

    /// <summary>A random address in <see cref="GeneratedPrefix"/>, lower-case, colon-separated.</summary>
    public static string Generate()
    {
        Span<byte> tail = stackalloc byte[3];
        RandomNumberGenerator.Fill(tail);
        return $"{GeneratedPrefix}:{tail[0]:x2}:{tail[1]:x2}:{tail[2]:x2}";
    }

    /// <summary>
    /// Accepts six hex octets separated by ':' or '-'; a NIC address must be unicast and not all zeros.
    /// Returns the problem in words, or null with <paramref name="normalized"/> in lower-case colon form.
    /// </summary>
    public static string? Check(string text, out string normalized)
    {
        normalized = "";
        string[] parts = text.Trim().Split(text.Contains('-', StringComparison.Ordinal) ? '-' : ':');
        if (parts.Length != 6 || parts.Any(p => p.Length != 2))
        {
            return "A MAC address is six pairs of hex digits, like 52:54:00:12:34:56.";
        }

        var octets = new byte[6];
        for (int i = 0; i < 6; i++)
        {
            if (!byte.TryParse(parts[i], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out octets[i]))
            {
                return $"'{parts[i]}' is not a hex octet; a MAC address looks like 52:54:00:12:34:56.";
            }
        }

        if ((octets[0] & 0x01) != 0)
        {
            return "That is a multicast address; a NIC needs a unicast one (the first octet even, as 52).";
        }

        if (octets.All(o => o == 0))
        {
            return "00:00:00:00:00:00 is not a usable address.";
        }

        normalized = string.Join(':', octets.Select(o => o.ToString("x2", CultureInfo.InvariantCulture)));
        return null;
    }
}
