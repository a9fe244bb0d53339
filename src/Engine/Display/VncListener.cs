using System.Net;
using System.Net.Sockets;
using Platform.Engine.Control;

namespace Platform.Engine.Display;

/// <summary>
/// Accepts VNC clients on one socket — <c>vnc.sock</c> in the runtime folder, or a TCP address for ordinary VNC
/// viewers — and serves each on its own task through <see cref="VncDisplay.ServeAsync"/>. Nothing here runs on a vCPU
/// thread.
/// </summary>
/// <remarks>
/// Which security a listener offers is its owner's decision, made when it is opened: the Unix socket lives in an
/// owner-only folder and offers None, as QEMU's does; a TCP listener asks for the password when one is set (the
/// command line refuses a non-loopback address without one).
/// </remarks>
public sealed class VncListener : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly string? _unixPath;
    private readonly VncDisplay _display;
    private readonly bool _requirePassword;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();
    private readonly List<Task> _clients = [];
    private Task _acceptLoop = Task.CompletedTask;
    private int _disposed;

    private VncListener(Socket listener, string? unixPath, VncDisplay display, bool requirePassword)
    {
        _listener = listener;
        _unixPath = unixPath;
        _display = display;
        _requirePassword = requirePassword;
    }

    /// <summary>Where clients connect (the TCP port chosen when 0 was asked for).</summary>
    public EndPoint LocalEndPoint => _listener.LocalEndPoint!;

    /// <summary>
    /// Listens on the Unix socket <paramref name="path"/> (owner-only; a stale socket left by a killed VMM is replaced,
    /// one that still answers makes this fail), offering security type None.
    /// </summary>
    public static VncListener ListenUnix(string path, VncDisplay display) =>
        Start(new VncListener(UnixSocketListener.Listen(path), path, display, requirePassword: false));

    /// <summary>Listens on <paramref name="endPoint"/>; clients must give the server's password when it has one.</summary>
    public static VncListener ListenTcp(IPEndPoint endPoint, VncDisplay display)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(endPoint);
            socket.Listen(UnixSocketListener.SystemMaxBacklog);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return Start(new VncListener(socket, null, display, requirePassword: true));
    }

    private static VncListener Start(VncListener listener)
    {
        listener._acceptLoop = listener.AcceptLoopAsync();
        return listener;
    }

    private Task AcceptLoopAsync() => UnixSocketListener.AcceptEachAsync(_listener, Accept, _stopping.Token);

    private void Accept(Socket client)
    {
        if (client.ProtocolType == ProtocolType.Tcp)
        {
            // Updates are written whole; small replies (a key's LED change) should not wait for Nagle.
            client.NoDelay = true;
        }

        lock (_lock)
        {
            _clients.RemoveAll(t => t.IsCompleted);
            _clients.Add(Task.Run(() => _display.ServeAsync(new NetworkStream(client, ownsSocket: true), _requirePassword, _stopping.Token)));
        }
    }

    /// <summary>Stops accepting, closes every client and waits for them; removes the Unix socket.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Task[] clients;
        lock (_lock)
        {
            clients = [.. _clients];
        }

        await Task.WhenAll(clients).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_unixPath is not null)
        {
            File.Delete(_unixPath);
        }

        _stopping.Dispose();
    }
}
