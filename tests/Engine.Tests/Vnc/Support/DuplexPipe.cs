namespace Platform.Engine.Tests.Vnc.Support;

/// <summary>
/// A one-way in-memory byte pipe with a fixed capacity: a writer waits while it is full, as a socket's sender does
/// when the peer stops reading. Lets tests model slow clients without timing anything.
/// </summary>
internal sealed class BytePipe(int capacity)
{
    private readonly Lock _gate = new();
    private readonly byte[] _ring = new byte[capacity];
    private int _head;
    private int _count;
    private bool _closed;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Buffered
    {
        get
        {
            lock (_gate)
            {
                return _count;
            }
        }
    }

    public long TotalWritten { get; private set; }

    public async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                if (_count > 0)
                {
                    int n = Math.Min(destination.Length, _count);
                    for (int i = 0; i < n; i++)
                    {
                        destination.Span[i] = _ring[(_head + i) % _ring.Length];
                    }

                    _head = (_head + n) % _ring.Length;
                    _count -= n;
                    Signal();
                    return n;
                }

                if (_closed)
                {
                    return 0;
                }

                wait = _changed.Task;
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken)
    {
        while (source.Length > 0)
        {
            Task wait;
            lock (_gate)
            {
                if (_closed)
                {
                    throw new IOException("The pipe is closed.");
                }

                int free = _ring.Length - _count;
                if (free > 0)
                {
                    int n = Math.Min(free, source.Length);
                    for (int i = 0; i < n; i++)
                    {
                        _ring[(_head + _count + i) % _ring.Length] = source.Span[i];
                    }

                    _count += n;
                    TotalWritten += n;
                    source = source[n..];
                    Signal();
                    continue;
                }

                wait = _changed.Task;
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public void Close()
    {
        lock (_gate)
        {
            _closed = true;
            Signal();
        }
    }

    private void Signal()
    {
        TaskCompletionSource changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }
}

/// <summary>One end of a pair of <see cref="BytePipe"/>s, as a Stream (what the server gets from a socket).</summary>
internal sealed class DuplexStream(BytePipe input, BytePipe output) : Stream
{
    public BytePipe Input => input;

    public BytePipe Output => output;

    /// <summary>Two connected ends; <paramref name="capacity"/> bytes may wait unread in each direction.</summary>
    public static (DuplexStream Client, DuplexStream Server) CreatePair(int capacity = 1 << 20)
    {
        var toServer = new BytePipe(capacity);
        var toClient = new BytePipe(capacity);
        return (new DuplexStream(toClient, toServer), new DuplexStream(toServer, toClient));
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        input.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        input.ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        output.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        output.WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) =>
        input.ReadAsync(buffer.AsMemory(offset, count), CancellationToken.None).AsTask().GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) =>
        output.WriteAsync(buffer.AsMemory(offset, count), CancellationToken.None).AsTask().GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            input.Close();
            output.Close();
        }

        base.Dispose(disposing);
    }
}
