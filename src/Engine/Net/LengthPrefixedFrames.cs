using System.Buffers.Binary;
using Platform.Devices.Virtio.Net;

namespace Platform.Engine.Net;

/// <summary>
/// The receive side of QEMU's <c>-netdev stream</c> framing, which passt speaks: each Ethernet frame follows its
/// length as a 4-byte big-endian number. Bytes are read from the socket in large chunks straight into this buffer, and
/// each whole frame is shown in place (<see cref="Peek"/>), so a frame is copied once, into the guest.
/// </summary>
internal sealed class LengthPrefixedFrames
{
    public const int PrefixSize = 4;

    /// <summary>The largest frame the stream may carry: what virtio-net takes without segmentation offloads.</summary>
    public const int MaxFrameSize = VirtioNet.MaxFrameSize;

    private readonly byte[] _buffer;
    private int _start;
    private int _end;

    /// <param name="capacity">At least one largest frame and its prefix; more lets one read take many frames.</param>
    public LengthPrefixedFrames(int capacity = 4 * (MaxFrameSize + PrefixSize))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, MaxFrameSize + PrefixSize);
        _buffer = new byte[capacity];
    }

    /// <summary>Bytes received but not yet consumed.</summary>
    public int Buffered => _end - _start;

    /// <summary>
    /// Where the next read goes. Moves what is buffered to the front first when the room behind it could not take a
    /// largest frame; empty only when a whole frame already waits to be consumed.
    /// </summary>
    public Span<byte> FreeSpace
    {
        get
        {
            if (_buffer.Length - _end < MaxFrameSize + PrefixSize && _start > 0)
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                _end -= _start;
                _start = 0;
            }

            return _buffer.AsSpan(_end);
        }
    }

    /// <summary>The last read put <paramref name="count"/> bytes into <see cref="FreeSpace"/>.</summary>
    public void Commit(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _buffer.Length - _end);
        _end += count;
    }

    /// <summary>
    /// The next whole frame, or empty while it has not all arrived. Throws <see cref="InvalidDataException"/> for a
    /// length of 0 or past <see cref="MaxFrameSize"/>: the stream cannot be trusted after that, so its owner starts a new one.
    /// </summary>
    public ReadOnlySpan<byte> Peek()
    {
        if (Buffered < PrefixSize)
        {
            return default;
        }

        uint length = BinaryPrimitives.ReadUInt32BigEndian(_buffer.AsSpan(_start));
        if (length is 0 or > MaxFrameSize)
        {
            throw new InvalidDataException($"a frame length of {length} bytes (1 to {MaxFrameSize} allowed)");
        }

        return Buffered < PrefixSize + (int)length ? default : _buffer.AsSpan(_start + PrefixSize, (int)length);
    }

    /// <summary>Drops the frame <see cref="Peek"/> showed.</summary>
    public void Consume()
    {
        var frame = Peek();
        if (frame.IsEmpty)
        {
            throw new InvalidOperationException("No whole frame to consume.");
        }

        _start += PrefixSize + frame.Length;
        if (_start == _end)
        {
            _start = _end = 0;
        }
    }

    /// <summary>Forgets everything buffered (the stream it came from is gone).</summary>
    public void Clear() => _start = _end = 0;
}
