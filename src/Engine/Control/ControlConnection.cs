using System.Net.Sockets;
using System.Threading.Channels;

namespace Platform.Engine.Control;

/// <summary>
/// One client of control.sock: reads command lines, answers each in order, and receives every event. Replies and
/// events go through one bounded queue, so a client that stops reading is dropped instead of growing the VMM.
/// A line may come with descriptors (SCM_RIGHTS, sent in the same sendmsg as the line): the handler gets them with it,
/// and whatever it does not take is closed once the line is answered.
/// </summary>
internal sealed class ControlConnection : IAsyncDisposable
{
    private const int OutgoingLimit = 1024;

    private readonly Socket _socket;
    private readonly Func<ReadOnlyMemory<byte>, PassedDescriptors?, byte[]> _handleLine;
    private readonly DescriptorReceiver _receiver;

    /// <summary>Descriptors received and not yet handed over, by the buffer offset where their line begins.</summary>
    private readonly List<(int LineStart, PassedDescriptors Files)> _attached = [];
    private readonly Channel<byte[]> _outgoing = Channel.CreateBounded<byte[]>(
        new BoundedChannelOptions(OutgoingLimit) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly CancellationTokenSource _closed = new();
    private Task _writer = Task.CompletedTask;
    private Task _reader = Task.CompletedTask;

    public ControlConnection(Socket socket, Func<ReadOnlyMemory<byte>, PassedDescriptors?, byte[]> handleLine)
    {
        _socket = socket;
        _handleLine = handleLine;
        _receiver = new DescriptorReceiver(socket);
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
                var received = new PassedDescriptors();
                int read = await _receiver.ReceiveAsync(buffer.AsMemory(filled), received, _closed.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    received.Dispose();
                    break;
                }

                int scanFrom = filled;
                filled += read;
                Attach(buffer, scanFrom, filled, received);
                int lineStart = 0;
                int newline;
                while ((newline = Array.IndexOf(buffer, (byte)'\n', scanFrom, filled - scanFrom)) >= 0)
                {
                    var line = buffer.AsMemory(lineStart, newline - lineStart);
                    byte[]? reply = null;
                    using (var files = TakeAttached(lineStart))
                    {
                        if (!IsBlank(line.Span))
                        {
                            reply = _handleLine(line, files);
                        }
                    }

                    // Sent once the descriptors the command did not take are closed: a client that reads the reply may
                    // rely on that.
                    if (reply is not null)
                    {
                        Send(reply);
                    }

                    lineStart = newline + 1;
                    scanFrom = lineStart;
                }

                if (lineStart > 0)
                {
                    buffer.AsSpan(lineStart, filled - lineStart).CopyTo(buffer);
                    filled -= lineStart;
                    for (int i = 0; i < _attached.Count; i++)
                    {
                        _attached[i] = (_attached[i].LineStart - lineStart, _attached[i].Files);
                    }
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
            foreach (var (_, files) in _attached)
            {
                files.Dispose(); // came with a line that never ended
            }

            _attached.Clear();
        }
    }

    /// <summary>
    /// Gives what one read brought to the last line that begins in it (<see cref="DescriptorReceiver"/> says why that one).
    /// Descriptors of a read in which no line begins came in the middle of a line, which no client of ours sends: closed.
    /// </summary>
    private void Attach(byte[] buffer, int readFrom, int readTo, PassedDescriptors received)
    {
        if (received.Count == 0)
        {
            received.Dispose();
            return;
        }

        int lineStart = readTo >= 2 ? Array.LastIndexOf(buffer, (byte)'\n', readTo - 2, readTo - 1) + 1 : 0;
        if (lineStart < readFrom)
        {
            received.Dispose();
            return;
        }

        _attached.Add((lineStart, received));
    }

    /// <summary>The descriptors of the line at <paramref name="lineStart"/>; null when none came with it.</summary>
    private PassedDescriptors? TakeAttached(int lineStart)
    {
        PassedDescriptors? files = null;
        for (int i = _attached.Count - 1; i >= 0; i--)
        {
            if (_attached[i].LineStart > lineStart)
            {
                continue;
            }

            // Equal: this line's. Less: a line already answered, which cannot be; closed all the same.
            if (_attached[i].LineStart == lineStart)
            {
                files ??= new PassedDescriptors();
                files.TakeAll(_attached[i].Files);
            }

            _attached[i].Files.Dispose();
            _attached.RemoveAt(i);
        }

        return files;
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
