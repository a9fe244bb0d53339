using System.Globalization;
using System.Net;

namespace Platform.Engine.Display;

/// <summary>
/// A <c>--vnc ADDR:PORT[,password-file=FILE]</c> argument: a TCP listener for ordinary VNC viewers, beside the
/// <c>vnc.sock</c> every VM with a display has.
/// </summary>
/// <remarks>
/// As in QEMU, a loopback address may go without a password (security type None: only local users reach it). Any
/// other address needs <c>password-file=</c>: without it anyone who reaches the port would drive the VM's keyboard.
/// VNC authentication is weak (DES with the first 8 characters of the password, no encryption of the session), so
/// an address beyond the host is better reached through an SSH tunnel or the dashboard's console.
/// </remarks>
public sealed record VncListenOptions(IPEndPoint EndPoint, string? PasswordFile, string? Password)
{
    /// <summary>Parses the argument; the password is read from the file. Throws <see cref="FormatException"/> naming the problem.</summary>
    public static VncListenOptions Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        string[] parts = spec.Split(',');
        var endPoint = ParseEndPoint(parts[0]);
        string? passwordFile = null;
        foreach (string part in parts.AsSpan(1))
        {
            passwordFile = part.StartsWith("password-file=", StringComparison.Ordinal) && part.Length > "password-file=".Length
                ? part["password-file=".Length..]
                : throw new FormatException($"--vnc: unknown option \"{part}\" (want password-file=FILE)");
        }

        return Create(endPoint, passwordFile);
    }

    /// <summary>The listener for <paramref name="endPoint"/>, reading the password from <paramref name="passwordFile"/> when given.</summary>
    public static VncListenOptions Create(IPEndPoint endPoint, string? passwordFile)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        string? password = passwordFile is null ? null : ReadPassword(passwordFile);
        if (password is null && !IPAddress.IsLoopback(endPoint.Address))
        {
            throw new FormatException(
                $"--vnc {endPoint} is not a loopback address: add password-file=FILE (anyone who reaches the port would control the VM), or listen on 127.0.0.1");
        }

        return new VncListenOptions(endPoint, passwordFile, password);
    }

    /// <summary>The argument as given, never the password.</summary>
    public override string ToString() => PasswordFile is null ? EndPoint.ToString() : $"{EndPoint},password-file={PasswordFile}";

    /// <summary>"127.0.0.1:5901", "[::1]:5901", "localhost:5901", "0.0.0.0:5901"; the port may be 0 (any free one).</summary>
    public static IPEndPoint ParseEndPoint(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > IPEndPoint.MaxPort)
        {
            throw new FormatException($"--vnc needs ADDR:PORT, e.g. 127.0.0.1:5901 (got \"{text}\")");
        }

        string host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        else if (host.Contains(':', StringComparison.Ordinal))
        {
            throw new FormatException($"--vnc: write an IPv6 address in brackets, e.g. [::1]:5901 (got \"{text}\")");
        }

        if (host == "localhost")
        {
            return new IPEndPoint(IPAddress.Loopback, port);
        }

        return IPAddress.TryParse(host, out var address)
            ? new IPEndPoint(address, port)
            : throw new FormatException($"--vnc: \"{host}\" is not an IP address (names other than localhost are not looked up)");
    }

    /// <summary>The first line of the file, without its line end; VNC uses at most its first 8 characters.</summary>
    private static string ReadPassword(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FormatException($"--vnc: cannot read the password file {path}: {ex.Message}");
        }

        int end = text.IndexOfAny(['\r', '\n']);
        string password = end < 0 ? text : text[..end];
        return password.Length > 0 ? password : throw new FormatException($"--vnc: the password file {path} has an empty first line");
    }
}
