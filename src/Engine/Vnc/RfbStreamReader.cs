namespace Platform.Engine.Vnc;

/// <summary>A client broke the protocol: the connection is closed and counted, nothing else happens.</summary>
public sealed class RfbProtocolException : Exception
{
    public RfbProtocolException()
    {
    }

    public RfbProtocolException(string message)
        : base(message)
    {
    }

    public RfbProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Reads a client's bytes through one small buffer, so a message arriving in pieces costs no allocation and a burst of
/// pointer events costs one read. Hands out views of its buffer that stay valid until the next read.
/// </summary>
internal sealed class RfbStreamReader(Stream stream)
{
    public const int BufferSize = 4096;

    private readonly byte[] _buffer = new byte[BufferSize];
    private int _start;
    private int _end;

    /// <summary>Exactly <paramref name="count"/> bytes (at most <see cref="BufferSize"/>); end of stream throws.</summary>
    public async ValueTask<ReadOnlyMemory<byte>> ReadAsync(int count, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, BufferSize);

        if (_end - _start < count)
        {
            if (_start > 0)
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                _end -= _start;
                _start = 0;
            }

            while (_end < count)
            {
                int read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new EndOfStreamException("The client closed the connection.");
                }

                _end += read;
            }
        }

        var result = _buffer.AsMemory(_start, count);
        _start += count;
        return result;
    }

    /// <summary>Reads and discards <paramref name="count"/> bytes.</summary>
    public async ValueTask SkipAsync(long count, CancellationToken cancellationToken)
    {
        while (count > 0)
        {
            int chunk = (int)Math.Min(count, BufferSize);
            await ReadAsync(chunk, cancellationToken).ConfigureAwait(false);
            count -= chunk;
        }
    }
}
