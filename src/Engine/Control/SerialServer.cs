using System.Net.Sockets;
using Platform.Engine.Host;

namespace Platform.Engine.Control;

/// <summary>
/// Serves serial.sock: raw bytes both ways for any number of clients. Each client first receives the scroll-back,
/// then live output; what any client sends is typed into COM1 (waiting while the UART's input queue is full).
/// A client that reads too slowly skips ahead in the scroll-back rather than holding up the guest or the others.
/// </summary>
public sealed class SerialServer : IAsyncDisposable
{
    private static readonly TimeSpan InputRetryDelay = TimeSpan.FromMilliseconds(5);

    private readonly Socket _listener;
    private readonly string _path;
    private readonly SerialConsoleStream _console;
    private readonly Func<ReadOnlyMemory<byte>, int> _input;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();
    private readonly List<Task> _clients = [];
    private Task _acceptLoop = Task.CompletedTask;
    private int _disposed;

    private SerialServer(Socket listener, string path, SerialConsoleStream console, Func<ReadOnlyMemory<byte>, int> input)
    {
        _listener = listener;
        _path = path;
        _console = console;
        _input = input;
    }

    /// <summary>Listens on <paramref name="socketPath"/>; <paramref name="input"/> takes guest input and returns how much it accepted.</summary>
    public static SerialServer Start(string socketPath, SerialConsoleStream console, Func<ReadOnlyMemory<byte>, int> input)
    {
        var server = new SerialServer(UnixSocketListener.Listen(socketPath), socketPath, console, input);
        server._acceptLoop = server.AcceptLoopAsync();
        return server;
    }

    private Task AcceptLoopAsync() => UnixSocketListener.AcceptEachAsync(_listener, Accept, _stopping.Token);

    private void Accept(Socket client)
    {
        lock (_lock)
        {
            _clients.RemoveAll(t => t.IsCompleted);
            _clients.Add(ServeAsync(client));
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using (client)
        using (var gone = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
        {
            var output = SendOutputAsync(client, _console.OpenReader(replayScrollback: true), gone.Token);
            var input = ReceiveInputAsync(client, gone.Token);
            // Whichever side ends first (client closed, VMM ending) ends the other.
            await Task.WhenAny(output, input).ConfigureAwait(false);
            await gone.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(output, input).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private static async Task SendOutputAsync(Socket client, SerialConsoleReader reader, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await reader.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await client.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }

            // The console is complete (the VMM is ending): everything was sent, let the client see end of file.
            client.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away.
        }
    }

    private async Task ReceiveInputAsync(Socket client, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await client.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false)) > 0)
            {
                var pending = buffer.AsMemory(0, read);
                while (!pending.IsEmpty)
                {
                    int taken = _input(pending);
                    pending = pending[taken..];
                    if (taken == 0)
                    {
                        await Task.Delay(InputRetryDelay, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away.
        }
    }

    /// <summary>Lets clients drain the console (call <see cref="SerialConsoleStream.Complete"/> first), then closes.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Task[] clients;
        lock (_lock)
        {
            clients = [.. _clients];
        }

        await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(clients).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        File.Delete(_path);
        _stopping.Dispose();
    }
}
