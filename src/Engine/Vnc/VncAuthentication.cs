using System.Security.Cryptography;
using System.Text;

namespace Platform.Engine.Vnc;

/// <summary>
/// RFB's "VNC Authentication" (security type 2): the server sends 16 random bytes, the client DES-encrypts them with
/// the password as the key. The key is the password's first 8 bytes, zero-padded, each byte with its bits reversed —
/// the historical quirk every VNC implementation keeps. It proves knowledge of a password of at most 8 characters and
/// protects nothing on the wire: QEMU's rules apply (no password only on loopback or a Unix socket).
/// </summary>
internal sealed class VncAuthentication : IDisposable
{
    public const int ChallengeSize = 16;

    private readonly DES _des;
    private readonly Lock _lock = new();   // connections authenticate concurrently; one DES object is not thread-safe

#pragma warning disable CA5351 // DES is what the RFB protocol defines for this security type; there is no choice.
    public VncAuthentication(string password)
    {
        ArgumentException.ThrowIfNullOrEmpty(password);
        byte[] key = KeyFromPassword(password);
        if (DES.IsWeakKey(key) || DES.IsSemiWeakKey(key))
        {
            throw new ArgumentException("This VNC password makes a weak DES key; choose another.", nameof(password));
        }

        _des = DES.Create();
        _des.Key = key;
    }
#pragma warning restore CA5351

    /// <summary>The DES key for <paramref name="password"/>: 8 bytes of Latin-1, zero-padded, each bit-reversed.</summary>
    public static byte[] KeyFromPassword(string password)
    {
        var key = new byte[8];
        byte[] bytes = Encoding.Latin1.GetBytes(password);
        for (int i = 0; i < key.Length && i < bytes.Length; i++)
        {
            key[i] = ReverseBits(bytes[i]);
        }

        return key;
    }

    /// <summary>What a client knowing the password answers to <paramref name="challenge"/>.</summary>
    public byte[] ExpectedResponse(ReadOnlySpan<byte> challenge)
    {
        lock (_lock)
        {
            return _des.EncryptEcb(challenge, PaddingMode.None);
        }
    }

    /// <summary>True when <paramref name="response"/> is the right answer, compared in constant time.</summary>
    public bool Verify(ReadOnlySpan<byte> challenge, ReadOnlySpan<byte> response) =>
        response.Length == ChallengeSize && CryptographicOperations.FixedTimeEquals(ExpectedResponse(challenge), response);

    public void Dispose() => _des.Dispose();

    private static byte ReverseBits(byte value)
    {
        int reversed = 0;
        for (int bit = 0; bit < 8; bit++)
        {
            reversed |= ((value >> bit) & 1) << (7 - bit);
        }

        return (byte)reversed;
    }
}
