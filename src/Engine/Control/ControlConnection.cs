using System.Net.Sockets;
using System.Threading.Channels;

namespace Platform.Engine.Control;

/// <summary>
/// One client of control.sock: reads command lines, answers each in order, and receives every event. Replies and
/// events go through one bounded queue, so a client that stops reading is dropped instead of growing the VMM.
/// </summary>
internal sealed class ControlConnection : IAsyncDisposable
{
    private const int OutgoingLimit = 1024;

    private readonly Socket _socket;
    private readonly Func<ReadOnlyMemory<byte>, byte[]> _handleLine;
    private readonly Channel<byte[]> _outgoing = Channel.CreateBounded<byte[]>(
        new BoundedChannelOptions(OutgoingLimit) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly CancellationTokenSource _closed = new();
    private Task _writer = Task.CompletedTask;
    private Task _reader = Task.CompletedTask;

    public ControlConnection(Socket socket, Func<ReadOnlyMemory<byte>, byte[]> handleLine)
    {
        _socket = socket;
        _handleLine = handleLine;
    }

    /// <summary>Completes when the client has gone (it closed, misbehaved, or the server closed it).</summary>
    public Task Completion => Task.WhenAll(_reader, _writer);

    public void Start(byte[] greeting)
    {
        Send(greeting);
        _writer = WriteLoopAsync();
        _reader = ReadLoopAsync();
    }

    /// <summary>Queues a line; a client whose queue is full is closed (it has stopped reading).</summary>
    public void Send(byte[] line)
    {
        if (!_outgoing.Writer.TryWrite(line))
        {
            Close();
        }
    }

    /// <summary>Lets queued lines go out, then closes; used when the VMM ends so clients see the last events.</summary>
    public async Task FlushAndCloseAsync(TimeSpan timeout)
    {
        _outgoing.Writer.TryComplete();
        await _writer.WaitAsync(timeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Close();
    }

    private void Close()
    {
        _outgoing.Writer.TryComplete();
        if (!_closed.IsCancellationRequested)
        {
            _closed.Cancel();
        }

        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already gone.
        }
        catch (ObjectDisposedException)
        {
            // Already gone.
        }
    }

    private async Task ReadLoopAsync()
    {
        byte[] buffer = new byte[ControlProtocol.MaxLineBytes + 1];
        int filled = 0;
        try
        {
            while (!_closed.IsCancellationRequested)
            {
                int read = await _socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, _closed.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                int scanFrom = filled;
                filled += read;
                int lineStart = 0;
                int newline;
                while ((newline = Array.IndexOf(buffer, (byte)'\n', scanFrom, filled - scanFrom)) >= 0)
                {
                    var line = buffer.AsMemory(lineStart, newline - lineStart);
                    if (!IsBlank(line.Span))
                    {
                        Send(_handleLine(line));
                    }

                    lineStart = newline + 1;
                    scanFrom = lineStart;
                }

                if (lineStart > 0)
                {
                    buffer.AsSpan(lineStart, filled - lineStart).CopyTo(buffer);
                    filled -= lineStart;
                }

                if (filled == buffer.Length)
                {
                    Send(ControlReplies.Error(null, ControlProtocol.ErrorClasses.ParseError,
                        $"a command line may be at most {ControlProtocol.MaxLineBytes} bytes; closing the connection"));
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away or the server is closing.
        }
        finally
        {
            _outgoing.Writer.TryComplete();
        }
    }

    private async Task WriteLoopAsync()
    {
        try
        {
            await foreach (byte[] line in _outgoing.Reader.ReadAllAsync(_closed.Token).ConfigureAwait(false))
            {
                await _socket.SendAsync(line, SocketFlags.None, _closed.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away or the server is closing.
        }
        finally
        {
            Close();
        }
    }

    private static bool IsBlank(ReadOnlySpan<byte> line) => line.Trim(" \t\r"u8).IsEmpty;

    public async ValueTask DisposeAsync()
    {
        Close();
        await Completion.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _socket.Dispose();
        _closed.Dispose();
    }
}
