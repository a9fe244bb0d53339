using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Platform.Devices.Virtio.Block;

/// <summary>
/// A page-aligned buffer on the pinned object heap, for I/O on files opened with O_DIRECT (address, length and file
/// offset must all be multiples of the logical block size). Pinned arrays never move, so the alignment found once holds.
/// </summary>
internal sealed class AlignedBuffer
{
    public const int PageSize = 4096;

    private readonly byte[] _storage;
    private readonly int _start;

    public AlignedBuffer(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _storage = GC.AllocateArray<byte>(length + PageSize, pinned: true);
        long address = Marshal.UnsafeAddrOfPinnedArrayElement(_storage, 0).ToInt64();
        _start = (int)((PageSize - (address % PageSize)) % PageSize);
        Length = length;
    }

    public int Length { get; }

    public Span<byte> Span => _storage.AsSpan(_start, Length);

    public Memory<byte> Memory => _storage.AsMemory(_start, Length);
}

/// <summary>A few reusable <see cref="AlignedBuffer"/>s of one size, so a copy-on-write does not allocate each time.</summary>
internal sealed class AlignedBufferPool(int bufferLength, int keep)
{
    private readonly ConcurrentBag<AlignedBuffer> _buffers = [];

    public int BufferLength { get; } = bufferLength;

    /// <summary>A buffer of <see cref="BufferLength"/> bytes, contents unspecified.</summary>
    public AlignedBuffer Rent() => _buffers.TryTake(out var buffer) ? buffer : new AlignedBuffer(BufferLength);

    public void Return(AlignedBuffer buffer)
    {
        if (buffer.Length == BufferLength && _buffers.Count < keep)
        {
            _buffers.Add(buffer);
        }
    }
}
