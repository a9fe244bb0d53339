using System.Security.Cryptography;
using System.Text;

namespace Platform.Web.Services.CloudInit;

/// <summary>
/// SHA-512 crypt(3) (<c>$6$salt$…</c>, Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512"), the hash cloud-init's
/// <c>passwd</c> hands to <c>chpasswd -e</c> and glibc checks at login. .NET has no crypt(3), and running
/// <c>openssl passwd</c> would put the password on a pipe to another program; the tests check this against it.
/// </summary>
public static class Sha512Crypt
{
    private const string Alphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private const int DefaultRounds = 5000;
    private const int SaltLength = 16;

    /// <summary>Hashes <paramref name="password"/> with a fresh random salt and the default 5000 rounds.</summary>
    public static string Hash(string password) =>
        Hash(password, new string([.. RandomNumberGenerator.GetItems(Alphabet.AsSpan(), SaltLength)]));

    /// <summary>Hashes with the given salt (at most 16 characters are used, as glibc does).</summary>
    public static string Hash(string password, string salt)
    {
        ArgumentNullException.ThrowIfNull(password);
        ArgumentNullException.ThrowIfNull(salt);
        byte[] p = Encoding.UTF8.GetBytes(password);
        byte[] s = Encoding.UTF8.GetBytes(salt.Length > SaltLength ? salt[..SaltLength] : salt);

        byte[] b = SHA512.HashData([.. p, .. s, .. p]);
        using var a = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
        a.AppendData(p);
        a.AppendData(s);
        int count;
        for (count = p.Length; count > 64; count -= 64)
        {
            a.AppendData(b);
        }

        a.AppendData(b, 0, count);
        for (count = p.Length; count > 0; count >>= 1)
        {
            a.AppendData((count & 1) != 0 ? b : p);
        }

        byte[] c = a.GetHashAndReset();

        using var dp = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
        for (int i = 0; i < p.Length; i++)
        {
            dp.AppendData(p);
        }

        byte[] pBytes = Repeat(dp.GetHashAndReset(), p.Length);

        using var ds = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
        for (int i = 0; i < 16 + c[0]; i++)
        {
            ds.AppendData(s);
        }

        byte[] sBytes = Repeat(ds.GetHashAndReset(), s.Length);

        using var round = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
        for (int i = 0; i < DefaultRounds; i++)
        {
            round.AppendData((i & 1) != 0 ? pBytes : c);
            if (i % 3 != 0)
            {
                round.AppendData(sBytes);
            }

            if (i % 7 != 0)
            {
                round.AppendData(pBytes);
            }

            round.AppendData((i & 1) != 0 ? c : pBytes);
            c = round.GetHashAndReset();
        }

        var output = new StringBuilder("$6$").Append(Encoding.UTF8.GetString(s)).Append('$');
        // The 64 bytes go out in the order the specification gives: triples (i, i+21, i+42) rotated by i mod 3.
        for (int i = 0; i < 21; i++)
        {
            var (b2, b1, b0) = (i % 3) switch
            {
                0 => (c[i], c[i + 21], c[i + 42]),
                1 => (c[i + 21], c[i + 42], c[i]),
                _ => (c[i + 42], c[i], c[i + 21]),
            };
            Encode(output, b2, b1, b0, 4);
        }

        Encode(output, 0, 0, c[63], 2);
        return output.ToString();
    }

    /// <summary>Whether <paramref name="value"/> looks like a hash this makes (for values stored before).</summary>
    public static bool IsHash(string value) => value.StartsWith("$6$", StringComparison.Ordinal) && value.Count(ch => ch == '$') == 3;

    private static byte[] Repeat(byte[] digest, int length)
    {
        byte[] result = new byte[length];
        for (int i = 0; i < length; i++)
        {
            result[i] = digest[i % digest.Length];
        }

        return result;
    }

    private static void Encode(StringBuilder output, byte b2, byte b1, byte b0, int characters)
    {
        int w = (b2 << 16) | (b1 << 8) | b0;
        for (int i = 0; i < characters; i++)
        {
            output.Append(Alphabet[w & 0x3f]);
            w >>= 6;
        }
    }
}
