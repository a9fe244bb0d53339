using System.Net.Sockets;

namespace Platform.Engine.Control;

/// <summary>Creates the listening Unix sockets of a runtime folder, owner-only, replacing a stale one safely.</summary>
internal static class UnixSocketListener
{
    // sockaddr_un.sun_path is 108 bytes including the terminating zero.
    private const int MaxPathBytes = 107;

    // What the kernel allowed before 5.4 and glibc's SOMAXCONN; only used when /proc cannot be read.
    private const int FallbackBacklog = 4096;

    private const string SomaxconnPath = "/proc/sys/net/core/somaxconn";

    /// <summary>
    /// The longest queue of not yet accepted connections the system allows (net.core.somaxconn). A burst of clients
    /// (the dashboard reattaching to every VMM, a script opening many consoles) must queue, never fail: a full queue
    /// makes a non-blocking connect on a Unix socket fail at once with EAGAIN, where TCP would retry.
    /// </summary>
    public static int SystemMaxBacklog { get; } = ReadSystemMaxBacklog();

    public static Socket Listen(string path)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(path) > MaxPathBytes)
        {
            throw new IOException($"The socket path {path} is longer than the {MaxPathBytes} bytes a Unix socket allows: use a shorter --runtime-dir.");
        }

        if (File.Exists(path))
        {
            if (IsAnswering(path))
            {
                throw new IOException($"{path} belongs to a VMM that is still running: give each VM its own --runtime-dir.");
            }

            // Left behind by a VMM that was killed: nobody listens, so it is safe to replace.
            File.Delete(path);
        }

        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(path));
            if (OperatingSystem.IsLinux())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            socket.Listen(SystemMaxBacklog);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Accepts clients of <paramref name="listener"/> (a Unix or TCP listening socket) and hands each to
    /// <paramref name="accepted"/> until <paramref name="stopping"/> is cancelled or the listener is closed.
    /// </summary>
    public static async Task AcceptEachAsync(Socket listener, Action<Socket> accepted, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(stopping).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                break;
            }

            accepted(client);
        }
    }

    private static int ReadSystemMaxBacklog()
    {
        try
        {
            return int.TryParse(File.ReadAllText(SomaxconnPath).Trim(), out int value) && value > 0 ? value : FallbackBacklog;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return FallbackBacklog;
        }
    }

    private static bool IsAnswering(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
