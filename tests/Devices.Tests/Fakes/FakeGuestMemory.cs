using System.Buffers.Binary;
using Platform.Devices.Abstractions;

namespace Platform.Devices.Tests.Fakes;

/// <summary>Guest RAM for device tests: one region [<see cref="Start"/>, Start + size), bounds-checked like the engine's.</summary>
public sealed class FakeGuestMemory(ulong start, int size) : IGuestMemory
{
    private readonly byte[] _bytes = new byte[size];

    public FakeGuestMemory(int size = 1 << 20)
        : this(0, size)
    {
    }

    public ulong Start { get; } = start;

    public ulong End => Start + (ulong)_bytes.Length;

    public bool IsValidRange(ulong address, ulong length) =>
        address >= Start && address <= ulong.MaxValue - length && address + length <= End;

    public bool TryRead(ulong address, Span<byte> destination)
    {
        if (!IsValidRange(address, (ulong)destination.Length))
        {
            return false;
        }

        _bytes.AsSpan((int)(address - Start), destination.Length).CopyTo(destination);
        return true;
    }

    public bool TryWrite(ulong address, ReadOnlySpan<byte> source)
    {
        if (!IsValidRange(address, (ulong)source.Length))
        {
            return false;
        }

        source.CopyTo(_bytes.AsSpan((int)(address - Start)));
        return true;
    }

    public Span<byte> Span(ulong address, int length) => _bytes.AsSpan((int)(address - Start), length);

    public byte[] ReadBytes(ulong address, int length) => Span(address, length).ToArray();

    public void WriteBytes(ulong address, ReadOnlySpan<byte> data) => data.CopyTo(Span(address, data.Length));

    public ushort ReadU16(ulong address) => BinaryPrimitives.ReadUInt16LittleEndian(Span(address, 2));

    public uint ReadU32(ulong address) => BinaryPrimitives.ReadUInt32LittleEndian(Span(address, 4));

    public void WriteU16(ulong address, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(Span(address, 2), value);

    public void WriteU32(ulong address, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Span(address, 4), value);

    public void WriteU64(ulong address, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Span(address, 8), value);
}
