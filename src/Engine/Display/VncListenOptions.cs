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
    public static VncListenOptions Parse(string spec) => From(ParseSpec(spec));

    /// <summary>The argument as vm.json's "vnc" says it; nothing is read yet.</summary>
    public static VncConfig ParseSpec(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        string[] parts = spec.Split(',');
        string? passwordFile = null;
        foreach (string part in parts.AsSpan(1))
        {
            passwordFile = part.StartsWith("password-file=", StringComparison.Ordinal) && part.Length > "password-file=".Length
                ? part["password-file=".Length..]
                : throw new FormatException($"--vnc: unknown option \"{part}\" (want password-file=FILE)");
        }

        return new VncConfig(parts[0]) { PasswordFile = passwordFile };
    }

    /// <summary>The listener a configuration's "vnc" describes, its password read from the file.</summary>
    public static VncListenOptions From(VncConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return Create(ParseEndPoint(config.Listen), config.PasswordFile);
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
    public static IPEndPoint ParseEndPoint(string text) =>
        VncAddress.Parse(text, out string? problem) ?? throw new FormatException($"--vnc {problem}");

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
