namespace Platform.Engine.Host;

/// <summary>
/// The guest's console output as the host sees it: one bounded scroll-back ring that any number of readers follow
/// (stdout, each serial.sock client). The UART writes into it on a vCPU thread, so a write never blocks and never
/// waits for a reader; a reader that falls more than the ring's capacity behind skips ahead and is told how many
/// bytes it missed. Memory stays at one ring whatever the readers do.
/// </summary>
public sealed class SerialConsoleStream : Stream
{
    public const int DefaultScrollback = 256 * 1024;

    private readonly byte[] _ring;
    private readonly Lock _lock = new();
    private long _written;
    private bool _completed;
    private TaskCompletionSource? _waiters;

    public SerialConsoleStream(int scrollbackBytes = DefaultScrollback)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(scrollbackBytes, 1);
        _ring = new byte[scrollbackBytes];
    }

    /// <summary>Every byte the guest has written since the VMM started (across reboots).</summary>
    public long TotalWritten
    {
        get
        {
            lock (_lock)
            {
                return _written;
            }
        }
    }

    /// <summary>A reader that first replays the scroll-back (or starts at the live end) and then follows.</summary>
    public SerialConsoleReader OpenReader(bool replayScrollback)
    {
        lock (_lock)
        {
            return new SerialConsoleReader(this, replayScrollback ? Math.Max(0, _written - _ring.Length) : _written);
        }
    }

    /// <summary>No more output will come (the VMM is ending): readers drain what is left, then read 0.</summary>
    public void Complete()
    {
        lock (_lock)
        {
            _completed = true;
            WakeReaders();
        }
    }

    public override void WriteByte(byte value) => Write([value]);

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return;
        }

        lock (_lock)
        {
            if (buffer.Length > _ring.Length)
            {
                _written += buffer.Length - _ring.Length;
                buffer = buffer[^_ring.Length..];
            }

            int start = (int)(_written % _ring.Length);
            int first = Math.Min(buffer.Length, _ring.Length - start);
            buffer[..first].CopyTo(_ring.AsSpan(start));
            buffer[first..].CopyTo(_ring);
            _written += buffer.Length;
            WakeReaders();
        }
    }

    /// <summary>Copies bytes from <paramref name="position"/> on; waits for output when there is none yet.</summary>
    internal async ValueTask<(int Read, long Position, long Skipped)> ReadAsync(long position, Memory<byte> destination, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_lock)
            {
                long skipped = 0;
                long oldest = Math.Max(0, _written - _ring.Length);
                if (position < oldest)
                {
                    skipped = oldest - position;
                    position = oldest;
                }

                if (position < _written)
                {
                    int count = (int)Math.Min(destination.Length, _written - position);
                    int start = (int)(position % _ring.Length);
                    int first = Math.Min(count, _ring.Length - start);
                    _ring.AsSpan(start, first).CopyTo(destination.Span);
                    _ring.AsSpan(0, count - first).CopyTo(destination.Span[first..]);
                    return (count, position + count, skipped);
                }

                if (_completed)
                {
                    return (0, position, skipped);
                }

                // Continuations run elsewhere: the writer is a vCPU thread and must not run a reader's socket send.
                _waiters ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _waiters.Task;
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private void WakeReaders()
    {
        // Only allocate a new completion source when someone waits: the UART writes a byte at a time.
        _waiters?.TrySetResult();
        _waiters = null;
    }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}

/// <summary>One follower of a <see cref="SerialConsoleStream"/>; not thread-safe (one reader per consumer).</summary>
public sealed class SerialConsoleReader
{
    private readonly SerialConsoleStream _console;
    private long _position;

    internal SerialConsoleReader(SerialConsoleStream console, long position)
    {
        _console = console;
        _position = position;
    }

    /// <summary>Bytes this reader lost because it fell a whole scroll-back behind.</summary>
    public long SkippedBytes { get; private set; }

    /// <summary>Waits for output and copies it; 0 once the console is complete and drained.</summary>
    public async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        var (read, position, skipped) = await _console.ReadAsync(_position, destination, cancellationToken).ConfigureAwait(false);
        _position = position;
        SkippedBytes += skipped;
        return read;
    }
}
