using System.Net.Sockets;
using Platform.Engine.Host;

namespace Platform.Engine.Control;

/// <summary>
/// Serves serial.sock: raw bytes both ways for any number of clients. Each client first receives the scroll-back,
/// then live output; what any client sends is typed into COM1. A client that reads too slowly skips ahead in the
/// scroll-back rather than holding up the guest or the others.
/// </summary>
/// <remarks>
/// Input is fair: each client's bytes wait in its own queue of <see cref="ClientInputQueueBytes"/> (past that, the
/// client's socket holds them: nothing is dropped), and the clients' queues feed COM1 a byte each in turn, only while
/// the UART holds less than a FIFO's worth (<see cref="InputFeed{T}"/>). So one client's 1 MiB paste delays another's
/// keystroke by a few bytes, not by the paste.
/// </remarks>
public sealed class SerialServer : IAsyncDisposable
{
    /// <summary>Bytes a client may have waiting for the guest before the server stops reading its socket.</summary>
    public const int ClientInputQueueBytes = 64 * 1024;

    private readonly Socket _listener;
    private readonly string _path;
    private readonly SerialConsoleStream _console;
    private readonly InputFeed<byte> _input;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();
    private readonly List<Task> _clients = [];
    private Task _acceptLoop = Task.CompletedTask;
    private int _disposed;

    private SerialServer(Socket listener, string path, SerialConsoleStream console, ISerialInput input)
    {
        _listener = listener;
        _path = path;
        _console = console;
        _input = new InputFeed<byte>(input.TryWrite);
        input.RoomAvailable = _input.RoomAvailable;
    }

    /// <summary>Bytes typed into the guest from all clients.</summary>
    public long InputDelivered => _input.Delivered;

    /// <summary>Bytes waiting in the clients' queues.</summary>
    public int InputQueued => _input.Pending;

    /// <summary>Listens on <paramref name="socketPath"/>; clients type into <paramref name="input"/> (the host's COM1).</summary>
    public static SerialServer Start(string socketPath, SerialConsoleStream console, ISerialInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
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
        InputFeed<byte>.Client queue = _input.Open(ClientInputQueueBytes);
        byte[] buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await client.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false)) > 0)
            {
                for (int i = 0; i < read; i++)
                {
                    while (!queue.TryAdd(buffer[i]))
                    {
                        // The queue is at its bound: hand over what the guest takes, and leave the rest in the socket.
                        _input.Pump();
                        await queue.WaitForRoomAsync(cancellationToken).ConfigureAwait(false);
                    }
                }

                _input.Pump();
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away.
        }
        finally
        {
            // What it sent before leaving is still typed (a script that writes and closes loses nothing).
            queue.Close();
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
