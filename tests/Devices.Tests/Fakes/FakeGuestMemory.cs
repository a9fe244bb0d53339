using System.Buffers.Binary;
using Platform.Devices.Abstractions;

namespace Platform.Devices.Tests.Fakes;

/// <summary>
/// Guest RAM for device tests: one region [<see cref="Start"/>, Start + size), bounds-checked like the engine's, held
/// in a pinned array whose first byte is page-aligned, so views keep the guest addresses' alignment as the engine's do.
/// </summary>
public sealed class FakeGuestMemory : IGuestMemory
{
    private const int PageSize = 4096;
    private readonly Memory<byte> _bytes;
    private int _viewsTaken;

    public FakeGuestMemory(ulong start, int size)
    {
        Start = start;
        byte[] storage = GC.AllocateArray<byte>(size + PageSize, pinned: true);
        long address = System.Runtime.InteropServices.Marshal.UnsafeAddrOfPinnedArrayElement(storage, 0).ToInt64();
        _bytes = storage.AsMemory((int)((PageSize - (address % PageSize)) % PageSize), size);
    }

    public FakeGuestMemory(int size = 1 << 20)
        : this(0, size)
    {
    }

    public ulong Start { get; }

    /// <summary>When set, <see cref="TryGetMemory"/> refuses every range, as an implementation may for long ones.</summary>
    public bool RefuseViews { get; set; }

    /// <summary>Views handed out by <see cref="TryGetMemory"/>.</summary>
    public int ViewsTaken => _viewsTaken;

    public ulong End => Start + (ulong)_bytes.Length;

    public bool IsValidRange(ulong address, ulong length) =>
        address >= Start && address <= ulong.MaxValue - length && address + length <= End;

    public bool TryRead(ulong address, Span<byte> destination)
    {
        if (!IsValidRange(address, (ulong)destination.Length))
        {
            return false;
        }

        _bytes.Span.Slice((int)(address - Start), destination.Length).CopyTo(destination);
        return true;
    }

    public bool TryWrite(ulong address, ReadOnlySpan<byte> source)
    {
        if (!IsValidRange(address, (ulong)source.Length))
        {
            return false;
        }

        source.CopyTo(_bytes.Span[(int)(address - Start)..]);
        return true;
    }

    public bool TryGetMemory(ulong address, int length, out Memory<byte> memory)
    {
        memory = default;
        if (RefuseViews || length < 0 || !IsValidRange(address, (ulong)length))
        {
            return false;
        }

        Interlocked.Increment(ref _viewsTaken);
        memory = _bytes.Slice((int)(address - Start), length);
        return true;
    }

    public Span<byte> Span(ulong address, int length) => _bytes.Span.Slice((int)(address - Start), length);

    public byte[] ReadBytes(ulong address, int length) => Span(address, length).ToArray();

    public void WriteBytes(ulong address, ReadOnlySpan<byte> data) => data.CopyTo(Span(address, data.Length));

    public ushort ReadU16(ulong address) => BinaryPrimitives.ReadUInt16LittleEndian(Span(address, 2));

    public uint ReadU32(ulong address) => BinaryPrimitives.ReadUInt32LittleEndian(Span(address, 4));

    public void WriteU16(ulong address, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(Span(address, 2), value);

    public void WriteU32(ulong address, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Span(address, 4), value);

    public void WriteU64(ulong address, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Span(address, 8), value);
}
