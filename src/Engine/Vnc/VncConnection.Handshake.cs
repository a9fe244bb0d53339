using System.Security.Cryptography;
using System.Text;

namespace Platform.Engine.Vnc;

// The handshake (RFC 6143 §7.1–7.3): version, security, ClientInit, ServerInit. 3.3 and 3.7 differ only in how the
// security type is chosen and whether a failure carries a reason.
internal sealed partial class VncConnection
{
    private const int VersionLength = 12;

    /// <summary>True when the client is in and has its ServerInit; false when it was refused (already told why).</summary>
    public async Task<bool> HandshakeAsync(CancellationToken cancellationToken)
    {
        await WriteNowAsync("RFB 003.008\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
        ReadOnlyMemory<byte> version = await _reader.ReadAsync(VersionLength, cancellationToken).ConfigureAwait(false);
        MinorVersion = ParseVersion(version.Span);

        if (_server.ClientCount >= _server.Options.MaxClients)
        {
            await RefuseAsync("Too many clients are connected to this display.", cancellationToken).ConfigureAwait(false);
            return false;
        }

        byte securityType = _authentication is null ? RfbSecurity.None : RfbSecurity.VncAuthentication;
        if (MinorVersion >= 7)
        {
            await WriteNowAsync(new byte[] { 1, securityType }, cancellationToken).ConfigureAwait(false);
            byte chosen = (await _reader.ReadAsync(1, cancellationToken).ConfigureAwait(false)).Span[0];
            if (chosen != securityType)
            {
                await FailSecurityAsync("The security type chosen was not offered.", cancellationToken).ConfigureAwait(false);
                throw new RfbProtocolException($"Client chose security type {chosen}, offered {securityType}.");
            }
        }
        else
        {
            await WriteNowAsync(new byte[] { 0, 0, 0, securityType }, cancellationToken).ConfigureAwait(false);
        }

        if (securityType == RfbSecurity.VncAuthentication)
        {
            byte[] challenge = RandomNumberGenerator.GetBytes(VncAuthentication.ChallengeSize);
            await WriteNowAsync(challenge, cancellationToken).ConfigureAwait(false);
            ReadOnlyMemory<byte> response = await _reader.ReadAsync(VncAuthentication.ChallengeSize, cancellationToken).ConfigureAwait(false);
            if (!_authentication!.Verify(challenge, response.Span))
            {
                _server.CountAuthenticationFailure();
                await FailSecurityAsync("Authentication failed.", cancellationToken).ConfigureAwait(false);
                return false;
            }

            await WriteNowAsync(new byte[] { 0, 0, 0, 0 }, cancellationToken).ConfigureAwait(false);
        }
        else if (MinorVersion >= 8)
        {
            await WriteNowAsync(new byte[] { 0, 0, 0, 0 }, cancellationToken).ConfigureAwait(false);
        }

        // ClientInit: the shared flag. Every client shares the screen (a VM's console is no one's alone).
        await _reader.ReadAsync(1, cancellationToken).ConfigureAwait(false);
        if (!_server.TryAddClient(this, out int width, out int height))
        {
            return false;
        }

        _output.Clear();
        _output.WriteUInt16((ushort)width);
        _output.WriteUInt16((ushort)height);
        PixelFormat.Native.WriteTo(_output.GetSpan(PixelFormat.Size));
        _output.Advance(PixelFormat.Size);
        byte[] name = Encoding.UTF8.GetBytes(_server.Options.DesktopName);
        _output.WriteUInt32((uint)name.Length);
        _output.Write(name);
        await WriteNowAsync(_output.WrittenMemory, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>"RFB xxx.yyy\n" to the minor version we speak: 3.3 (also for 3.4–3.6), 3.7, or 3.8 (also above).</summary>
    private static int ParseVersion(ReadOnlySpan<byte> text)
    {
        if (!text.StartsWith("RFB "u8) || text[7] != (byte)'.' || text[11] != (byte)'\n'
            || !TryDigits(text[4..7], out int major) || !TryDigits(text[8..11], out int minor) || major < 3 || (major == 3 && minor < 3))
        {
            throw new RfbProtocolException("Not an RFB protocol version.");
        }

        return major > 3 || minor >= 8 ? 8 : minor == 7 ? 7 : 3;
    }

    private static bool TryDigits(ReadOnlySpan<byte> digits, out int value)
    {
        value = 0;
        foreach (byte digit in digits)
        {
            if (digit is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            value = (value * 10) + (digit - '0');
        }

        return true;
    }

    /// <summary>Refuses the connection in the security phase, with a reason the client can show.</summary>
    private async Task RefuseAsync(string reason, CancellationToken cancellationToken)
    {
        _output.Clear();
        if (MinorVersion >= 7)
        {
            _output.WriteByte(0);   // no security types: the connection failed
        }
        else
        {
            _output.WriteUInt32(RfbSecurity.Invalid);
        }

        WriteReason(reason);
        await WriteNowAsync(_output.WrittenMemory, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>SecurityResult "failed" — with a reason from 3.8 on; 3.3/3.7 clients just see the connection close.</summary>
    private async Task FailSecurityAsync(string reason, CancellationToken cancellationToken)
    {
        _output.Clear();
        _output.WriteUInt32(RfbSecurity.ResultFailed);
        if (MinorVersion >= 8)
        {
            WriteReason(reason);
        }

        await WriteNowAsync(_output.WrittenMemory, cancellationToken).ConfigureAwait(false);
    }

    private void WriteReason(string reason)
    {
        byte[] text = Encoding.UTF8.GetBytes(reason);
        _output.WriteUInt32((uint)text.Length);
        _output.Write(text);
    }

    private async ValueTask WriteNowAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        await _stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
