using Platform.Devices.Tests.Fakes;
using Platform.Devices.Virtio.Queue;

namespace Platform.Devices.Tests.Virtio;

/// <summary>
/// One buffer of a chain a test builds: device-readable with <see cref="Data"/>, or device-writable of
/// <see cref="Length"/> bytes, placed at a guest address that is a multiple of <see cref="Alignment"/> (16 unless asked).
/// </summary>
public readonly record struct FakeBuffer(byte[]? Data, uint Length, bool IsWritable, uint Alignment = 16)
{
    public static FakeBuffer Readable(byte[] data) => new(data, (uint)data.Length, false);

    /// <summary>A readable buffer at an address that is a multiple of <paramref name="alignment"/> (a power of two).</summary>
    public static FakeBuffer ReadableAt(uint alignment, byte[] data) => new(data, (uint)data.Length, false, alignment);

    /// <summary>A writable buffer at an address that is a multiple of <paramref name="alignment"/> (a power of two).</summary>
    public static FakeBuffer WritableAt(uint alignment, uint length) => new(null, length, true, alignment);

    /// <summary>One readable buffer holding the parts back to back (a header and its payload in one descriptor).</summary>
    public static FakeBuffer Readable(byte[] first, params byte[][] rest) => Readable([.. first, .. rest.SelectMany(part => part)]);

    public static FakeBuffer Writable(uint length) => new(null, length, true);
}

/// <summary>
/// The driver's side of a split virtqueue, in a <see cref="FakeGuestMemory"/>: writes descriptor tables (direct and
/// indirect), publishes chains in the available ring, and reads the used ring — after Cloud Hypervisor's GuestQ and
/// Firecracker's test_utils VirtQueue. Raw setters let tests build every malformed case a hostile driver could.
/// </summary>
/// <remarks>
/// Layout from <c>baseAddress</c>: descriptor table, available ring (with used_event), used ring (with avail_event),
/// then a bump-allocated area for buffers and indirect tables.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "named after the virtqueue it fakes")]
public sealed class FakeVirtQueue
{
    public const ushort FlagNext = 1, FlagWrite = 2, FlagIndirect = 4;

    private readonly FakeGuestMemory _memory;
    private ulong _nextData;
    private ushort _nextDescriptor;
    private ushort _availIdx;

    public FakeVirtQueue(FakeGuestMemory memory, ushort size, ulong baseAddress = 0x1000)
    {
        _memory = memory;
        Size = size;
        DescriptorTable = baseAddress;
        AvailRing = Align(DescriptorTable + (16UL * size), 2);
        UsedRing = Align(AvailRing + 6 + (2UL * size), 4096);
        _nextData = Align(UsedRing + 6 + (8UL * size), 4096);
    }

    public ushort Size { get; }

    public ulong DescriptorTable { get; }

    public ulong AvailRing { get; }

    public ulong UsedRing { get; }

    public ushort AvailIndex => _availIdx;

    public ushort UsedIndex => _memory.ReadU16(UsedRing + 2);

    /// <summary>The used ring's flags (the device's NO_NOTIFY).</summary>
    public ushort UsedFlags => _memory.ReadU16(UsedRing);

    /// <summary>The device's avail_event (EVENT_IDX): the avail index at which it wants the next notification.</summary>
    public ushort AvailEvent => _memory.ReadU16(UsedRing + 4 + (8UL * Size));

    /// <summary>Programs a <see cref="VirtQueue"/> with this layout and enables it (what the transport does for the driver).</summary>
    public VirtQueue CreateQueue(ulong features = 0, ushort maxSize = 0)
    {
        var queue = new VirtQueue(0, maxSize == 0 ? Size : maxSize)
        {
            Size = Size,
            DescriptorTable = DescriptorTable,
            DriverArea = AvailRing,
            DeviceArea = UsedRing,
            Enabled = true,
        };
        queue.TryActivate(_memory, features).Should().BeTrue();
        return queue;
    }

    /// <summary>Reserves <paramref name="length"/> bytes of guest memory for a buffer (16-byte aligned, or as asked).</summary>
    public ulong Allocate(uint length, uint alignment = 16)
    {
        ulong address = Align(_nextData, Math.Max(alignment, 16u));
        _nextData = Align(address + length, 16);
        return address;
    }

    public void SetDescriptor(ushort index, ulong address, uint length, ushort flags, ushort next) =>
        WriteDescriptor(_memory, DescriptorTable, index, address, length, flags, next);

    public static void WriteDescriptor(FakeGuestMemory memory, ulong table, int index, ulong address, uint length, ushort flags, ushort next)
    {
        ulong at = table + (16UL * (ulong)index);
        memory.WriteU64(at, address);
        memory.WriteU32(at + 8, length);
        memory.WriteU16(at + 12, flags);
        memory.WriteU16(at + 14, next);
    }

    /// <summary>Builds a chain of direct descriptors from the next free table slots and publishes it; returns its head.</summary>
    public ushort AddChain(params FakeBuffer[] buffers)
    {
        ushort head = _nextDescriptor;
        for (int i = 0; i < buffers.Length; i++)
        {
            ushort index = (ushort)((head + i) % Size);
            ushort next = (ushort)((head + i + 1) % Size);
            ulong address = PlaceBuffer(buffers[i]);
            ushort flags = (ushort)((buffers[i].IsWritable ? FlagWrite : 0) | (i + 1 < buffers.Length ? FlagNext : 0));
            SetDescriptor(index, address, buffers[i].Length, flags, next);
        }

        _nextDescriptor = (ushort)((head + buffers.Length) % Size);
        Publish(head);
        return head;
    }

    /// <summary>Builds the buffers in an indirect table referenced by one descriptor, and publishes it.</summary>
    public ushort AddIndirectChain(params FakeBuffer[] buffers)
    {
        ulong table = Allocate((uint)(16 * buffers.Length));
        for (int i = 0; i < buffers.Length; i++)
        {
            ulong address = PlaceBuffer(buffers[i]);
            ushort flags = (ushort)((buffers[i].IsWritable ? FlagWrite : 0) | (i + 1 < buffers.Length ? FlagNext : 0));
            WriteDescriptor(_memory, table, i, address, buffers[i].Length, flags, (ushort)(i + 1));
        }

        ushort head = _nextDescriptor;
        SetDescriptor(head, table, (uint)(16 * buffers.Length), FlagIndirect, 0);
        _nextDescriptor = (ushort)((head + 1) % Size);
        Publish(head);
        return head;
    }

    /// <summary>Puts <paramref name="head"/> in the next available slot and bumps the available index.</summary>
    public void Publish(ushort head)
    {
        _memory.WriteU16(AvailRing + 4 + (2UL * (ulong)(_availIdx % Size)), head);
        _availIdx++;
        _memory.WriteU16(AvailRing + 2, _availIdx);
    }

    /// <summary>Writes any available index, for the impossible-index case.</summary>
    public void SetAvailIndex(ushort value)
    {
        _availIdx = value;
        _memory.WriteU16(AvailRing + 2, value);
    }

    public void SetAvailFlags(ushort flags) => _memory.WriteU16(AvailRing, flags);

    /// <summary>EVENT_IDX: the used index after which the driver wants an interrupt.</summary>
    public void SetUsedEvent(ushort value) => _memory.WriteU16(AvailRing + 4 + (2UL * Size), value);

    /// <summary>The used ring's element <paramref name="index"/> (mod size): the chain head and bytes written.</summary>
    public (ushort Id, uint Length) Used(int index)
    {
        ulong at = UsedRing + 4 + (8UL * (ulong)(index % Size));
        return ((ushort)_memory.ReadU32(at), _memory.ReadU32(at + 4));
    }

    /// <summary>Where descriptor <paramref name="index"/> of the main table points (to read what the device wrote).</summary>
    public ulong BufferAddress(ushort index) => BitConverter.ToUInt64(_memory.ReadBytes(DescriptorTable + (16UL * index), 8));

    public byte[] ReadBuffer(ushort index, int length) => _memory.ReadBytes(BufferAddress(index), length);

    private ulong PlaceBuffer(FakeBuffer buffer)
    {
        ulong address = Allocate(buffer.Length, buffer.Alignment);
        if (buffer.Data is not null)
        {
            _memory.WriteBytes(address, buffer.Data);
        }
        else
        {
            _memory.Span(address, (int)buffer.Length).Clear();
        }

        return address;
    }

    private static ulong Align(ulong value, ulong alignment) => (value + alignment - 1) & ~(alignment - 1);
}
