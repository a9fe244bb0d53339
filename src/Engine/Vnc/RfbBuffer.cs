using System.Buffers;
using System.Buffers.Binary;

namespace Platform.Engine.Vnc;

/// <summary>
/// A growable byte buffer for building RFB messages, with big-endian writes. Its array comes from the shared pool
/// and is reused message after message, so steady-state encoding allocates nothing; it grows to the largest message
/// built (at most about one framebuffer per connection) and is returned to the pool on <see cref="Dispose"/>.
/// </summary>
internal sealed class RfbBuffer : IDisposable
{
    /// <summary>Past this size arrays are allocated to fit, not rented: the pool rounds up to a power of two.</summary>
    private const int PooledLimit = 1024 * 1024;

    private byte[] _array;
    private bool _pooled;

    public RfbBuffer(int initialCapacity = 4096)
    {
        _array = ArrayPool<byte>.Shared.Rent(initialCapacity);
        _pooled = true;
    }

    /// <summary>Bytes written so far.</summary>
    public int Length { get; private set; }

    /// <summary>The size of the array behind the buffer: what this buffer costs in memory.</summary>
    public int Capacity => _array.Length;

    public ReadOnlyMemory<byte> WrittenMemory => _array.AsMemory(0, Length);

    public ReadOnlySpan<byte> WrittenSpan => _array.AsSpan(0, Length);

    public void Clear() => Length = 0;

    /// <summary>A span of at least <paramref name="size"/> bytes at the end; call <see cref="Advance"/> with what was used.</summary>
    public Span<byte> GetSpan(int size)
    {
        EnsureCapacity(size);
        return _array.AsSpan(Length);
    }

    public void Advance(int count) => Length += count;

    /// <summary>
    /// Makes room for <paramref name="size"/> more bytes at once, sized to fit rather than grown step by step, so a
    /// buffer that must hold a whole screen holds about that and no more.
    /// </summary>
    public void Reserve(int size)
    {
        if (_array.Length - Length < size)
        {
            Grow(checked(Length + size), exact: true);
        }
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetSpan(bytes.Length));
        Length += bytes.Length;
    }

    public void WriteByte(byte value)
    {
        EnsureCapacity(1);
        _array[Length++] = value;
    }

    public void WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(GetSpan(2), value);
        Length += 2;
    }

    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(GetSpan(4), value);
        Length += 4;
    }

    public void WriteInt32(int value) => WriteUInt32(unchecked((uint)value));

    /// <summary>Overwrites a big-endian 16-bit value written earlier at <paramref name="position"/>.</summary>
    public void PatchUInt16(int position, ushort value) => BinaryPrimitives.WriteUInt16BigEndian(_array.AsSpan(position), value);

    /// <summary>Overwrites a big-endian 32-bit value written earlier at <paramref name="position"/>.</summary>
    public void PatchUInt32(int position, uint value) => BinaryPrimitives.WriteUInt32BigEndian(_array.AsSpan(position), value);

    /// <summary>Writes a rectangle header: x, y, width, height and the encoding.</summary>
    public void WriteRectangleHeader(int x, int y, int width, int height, int encoding)
    {
        Span<byte> header = GetSpan(12);
        BinaryPrimitives.WriteUInt16BigEndian(header, (ushort)x);
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], (ushort)y);
        BinaryPrimitives.WriteUInt16BigEndian(header[4..], (ushort)width);
        BinaryPrimitives.WriteUInt16BigEndian(header[6..], (ushort)height);
        BinaryPrimitives.WriteInt32BigEndian(header[8..], encoding);
        Length += 12;
    }

    public void Dispose()
    {
        byte[] array = _array;
        _array = [];
        Length = 0;
        if (_pooled && array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(array);
        }

        _pooled = false;
    }

    private void EnsureCapacity(int size)
    {
        if (_array.Length - Length >= size)
        {
            return;
        }

        Grow(checked(Length + size), exact: false);
    }

    private void Grow(int needed, bool exact)
    {
        int wanted = exact ? needed : Math.Max(needed, _array.Length + (_array.Length / 2));
        bool pooled = wanted <= PooledLimit;
        byte[] larger = pooled
            ? ArrayPool<byte>.Shared.Rent(wanted)
            : GC.AllocateUninitializedArray<byte>((int)Math.Min(((long)wanted + 0xFFFF) & ~0xFFFFL, Array.MaxLength));
        _array.AsSpan(0, Length).CopyTo(larger);
        if (_pooled)
        {
            ArrayPool<byte>.Shared.Return(_array);
        }

        _array = larger;
        _pooled = pooled;
    }
}
