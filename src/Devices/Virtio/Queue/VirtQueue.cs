using System.Buffers.Binary;
using Platform.Devices.Abstractions;

namespace Platform.Devices.Virtio.Queue;

/// <summary>
/// A split virtqueue (virtio 1.2, 2.7) seen from the device: the driver's descriptor table and available ring, the
/// device's used ring. Every index, address and length the guest supplies is checked — against the queue size and
/// against guest RAM — before it is used; a violation stops the queue with a <see cref="VirtQueueFault"/> instead
/// of throwing, and the transport then puts the device into DEVICE_NEEDS_RESET.
/// </summary>
/// <remarks>
/// <para>The transport programs <see cref="Size"/> and the three ring addresses while the driver sets the queue up,
/// then calls <see cref="TryActivate"/> at DRIVER_OK. From then on exactly one thread — the device's worker — calls
/// <see cref="TryPop"/>, <see cref="AddUsed"/> and <see cref="ShouldSignalDriver"/>; the transport touches the queue
/// again only after the device has stopped that worker (reset).</para>
/// <para>Chains are bounded by the queue size in total descriptors, indirect tables included, which also catches
/// loops. With VIRTIO_F_EVENT_IDX the queue publishes <c>avail_event</c> whenever it runs dry, and honours the
/// driver's <c>used_event</c>; without it, the driver's NO_INTERRUPT flag.</para>
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "virtqueue is the specification's name")]
public sealed class VirtQueue
{
    public const ushort MaxQueueSize = 32768;
    public const int DescriptorSize = 16;

    private const ushort DescriptorNext = 1, DescriptorWrite = 2, DescriptorIndirect = 4;
    private const ushort AvailNoInterrupt = 1, UsedNoNotify = 1;

    private readonly GuestBuffer[] _buffers;
    private IGuestMemory? _memory;
    private bool _indirect;
    private bool _eventIdx;
    private bool _suppressed;
    private ushort _nextAvail;
    private ushort _nextUsed;
    private ushort _signalledUsed;
    private volatile VirtQueueFault _fault;
    private long _chains;

    public VirtQueue(int index, ushort maxSize)
    {
        if (maxSize == 0 || maxSize > MaxQueueSize || (maxSize & (maxSize - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxSize), "A split queue's size is a power of two up to 32768.");
        }

        Index = index;
        MaxSize = maxSize;
        Size = maxSize;
        _buffers = new GuestBuffer[maxSize];
    }

    public int Index { get; }

    public ushort MaxSize { get; }

    /// <summary>The size the driver chose (the transport's <c>queue_size</c>), checked at activation.</summary>
    public ushort Size { get; set; }

    /// <summary>Guest address of the descriptor table (<c>queue_desc</c>).</summary>
    public ulong DescriptorTable { get; set; }

    /// <summary>Guest address of the available ring (<c>queue_driver</c>).</summary>
    public ulong DriverArea { get; set; }

    /// <summary>Guest address of the used ring (<c>queue_device</c>).</summary>
    public ulong DeviceArea { get; set; }

    /// <summary>The driver wrote 1 to <c>queue_enable</c>.</summary>
    public bool Enabled { get; set; }

    /// <summary>True between a successful <see cref="TryActivate"/> and <see cref="Reset"/>.</summary>
    public bool IsActive => _memory is not null;

    /// <summary>Why the queue stopped, or <see cref="VirtQueueFault.None"/>.</summary>
    public VirtQueueFault Fault => _fault;

    /// <summary>Chains the device has taken from the queue since activation.</summary>
    public long ChainsPopped => Interlocked.Read(ref _chains);

    /// <summary>
    /// Checks the layout the driver programmed against guest RAM and starts the queue. Returns false and sets
    /// <see cref="Fault"/> to <see cref="VirtQueueFault.BadLayout"/> when the driver's layout cannot be used.
    /// </summary>
    public bool TryActivate(IGuestMemory memory, ulong negotiatedFeatures)
    {
        _indirect = (negotiatedFeatures & VirtioFeatures.RingIndirectDescriptors) != 0;
        _eventIdx = (negotiatedFeatures & VirtioFeatures.RingEventIndex) != 0;
        _nextAvail = _nextUsed = _signalledUsed = 0;
        _suppressed = false;
        Interlocked.Exchange(ref _chains, 0);
        ulong size = Size;
        bool valid = Size != 0 && Size <= MaxSize && (Size & (Size - 1)) == 0 &&
            DescriptorTable % 16 == 0 && DriverArea % 2 == 0 && DeviceArea % 4 == 0 &&
            memory.IsValidRange(DescriptorTable, size * DescriptorSize) &&
            memory.IsValidRange(DriverArea, 6 + (2 * size)) &&   // flags, idx, ring[size], used_event
            memory.IsValidRange(DeviceArea, 6 + (8 * size));     // flags, idx, ring[size], avail_event
        if (!valid)
        {
            _fault = VirtQueueFault.BadLayout;
            return false;
        }

        _fault = VirtQueueFault.None;
        _memory = memory;
        return true;
    }

    /// <summary>Back to the state after a device reset: nothing programmed, not enabled, no fault.</summary>
    public void Reset()
    {
        _memory = null;
        Size = MaxSize;
        DescriptorTable = DriverArea = DeviceArea = 0;
        Enabled = false;
        _nextAvail = _nextUsed = _signalledUsed = 0;
        _fault = VirtQueueFault.None;
    }

    /// <summary>
    /// Takes the next available chain. False when the queue is empty, inactive or faulted — check
    /// <see cref="Fault"/> to tell which. A malformed chain faults the queue; it is never half-returned.
    /// </summary>
    public bool TryPop(out DescriptorChain chain)
    {
        chain = default;
        var memory = _memory;
        if (memory is null || _fault != VirtQueueFault.None)
        {
            return false;
        }

        if (!TryReadU16(memory, DriverArea + 2, out ushort availIdx))
        {
            return false;
        }

        ushort pending = (ushort)(availIdx - _nextAvail);
        if (pending == 0 && (_eventIdx || _suppressed))
        {
            // Ask to be notified for the next buffer, then look again: the driver may have added one before it
            // could see our avail_event (or the cleared NO_NOTIFY flag), and would then not notify.
            _suppressed = false;
            bool asked = _eventIdx
                ? TryWriteU16(memory, DeviceArea + 4 + (8 * (ulong)Size), _nextAvail)
                : TryWriteU16(memory, DeviceArea, 0);
            if (!asked)
            {
                return false;
            }

            Interlocked.MemoryBarrier();
            if (!TryReadU16(memory, DriverArea + 2, out availIdx))
            {
                return false;
            }

            pending = (ushort)(availIdx - _nextAvail);
        }

        if (pending == 0)
        {
            return false;
        }

        if (pending > Size)
        {
            return Stop(VirtQueueFault.ImpossibleAvailIndex);
        }

        // The ring entry is read after the index that published it.
        Interlocked.MemoryBarrier();
        if (!TryReadU16(memory, DriverArea + 4 + (2 * (ulong)(_nextAvail % Size)), out ushort head))
        {
            return false;
        }

        if (head >= Size)
        {
            return Stop(VirtQueueFault.HeadIndexOutOfRange);
        }

        if (!TryWalk(memory, head, out int count, out int readable, out ulong readableLength, out ulong writableLength))
        {
            return false;
        }

        _nextAvail++;
        Interlocked.Increment(ref _chains);
        chain = new DescriptorChain(memory, head, _buffers.AsSpan(0, count), readable, readableLength, writableLength);
        return true;
    }

    /// <summary>
    /// Asks the driver not to notify for now (QEMU's <c>virtio_queue_set_notification(vq, 0)</c>): with EVENT_IDX an
    /// <c>avail_event</c> half the index space ahead, without it the used ring's NO_NOTIFY flag. For a device that
    /// keeps looking at the queue anyway; the next <see cref="TryPop"/> that finds it empty asks to be notified again.
    /// </summary>
    public void SuppressNotifications()
    {
        var memory = _memory;
        if (memory is null || _fault != VirtQueueFault.None)
        {
            return;
        }

        _suppressed = true;
        if (_eventIdx)
        {
            TryWriteU16(memory, DeviceArea + 4 + (8 * (ulong)Size), (ushort)(_nextAvail + 0x8000));
        }
        else
        {
            TryWriteU16(memory, DeviceArea, UsedNoNotify);
        }
    }

    /// <summary>
    /// Whether the driver has made chains available that <see cref="TryPop"/> has not taken: one read of the available
    /// index, nothing written, so a device can poll for a moment before it sleeps and asks to be notified.
    /// </summary>
    public bool HasAvailable =>
        _memory is { } memory && _fault == VirtQueueFault.None &&
        TryReadU16(memory, DriverArea + 2, out ushort availIdx) && availIdx != _nextAvail;

    /// <summary>Returns chain <paramref name="head"/> to the driver with <paramref name="writtenLength"/> bytes written into it.</summary>
    public void AddUsed(ushort head, uint writtenLength)
    {
        var memory = _memory;
        if (memory is null || _fault != VirtQueueFault.None)
        {
            return;
        }

        Span<byte> element = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(element, head);
        BinaryPrimitives.WriteUInt32LittleEndian(element[4..], writtenLength);
        if (!memory.TryWrite(DeviceArea + 4 + (8 * (ulong)(_nextUsed % Size)), element))
        {
            Stop(VirtQueueFault.RingInaccessible);
            return;
        }

        // The element must be visible before the index that publishes it.
        Interlocked.MemoryBarrier();
        _nextUsed++;
        TryWriteU16(memory, DeviceArea + 2, _nextUsed);
    }

    /// <summary>
    /// Returns several chains to the driver at once: every element is written first and the used index moves once,
    /// so the driver sees all of them or none (a received frame spread over several buffers must arrive whole).
    /// </summary>
    public void AddUsed(ReadOnlySpan<UsedElement> elements)
    {
        var memory = _memory;
        if (memory is null || _fault != VirtQueueFault.None || elements.IsEmpty)
        {
            return;
        }

        Span<byte> element = stackalloc byte[8];
        ushort used = _nextUsed;
        foreach (var e in elements)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(element, e.Head);
            BinaryPrimitives.WriteUInt32LittleEndian(element[4..], e.Length);
            if (!memory.TryWrite(DeviceArea + 4 + (8 * (ulong)(used % Size)), element))
            {
                Stop(VirtQueueFault.RingInaccessible);
                return;
            }

            used++;
        }

        Interlocked.MemoryBarrier();
        _nextUsed = used;
        TryWriteU16(memory, DeviceArea + 2, _nextUsed);
    }

    /// <summary>
    /// Gives back the last <paramref name="chains"/> chains taken by <see cref="TryPop"/> and not returned to the driver,
    /// so the next <see cref="TryPop"/> takes them again (QEMU's <c>virtqueue_unpop</c>): a device that found it needs
    /// more buffers than the driver has posted waits for more without losing the ones it looked at.
    /// </summary>
    public void PutBack(int chains)
    {
        if (chains < 0 || chains > (ushort)(_nextAvail - _nextUsed))
        {
            throw new ArgumentOutOfRangeException(nameof(chains), "Only chains taken and not yet used can be put back.");
        }

        _nextAvail -= (ushort)chains;
        Interlocked.Add(ref _chains, -chains);
    }

    /// <summary>
    /// After one or more <see cref="AddUsed"/> calls: whether the driver wants an interrupt for them (its
    /// NO_INTERRUPT flag, or with EVENT_IDX whether the used index passed its <c>used_event</c>).
    /// </summary>
    public bool ShouldSignalDriver()
    {
        var memory = _memory;
        if (memory is null || _fault != VirtQueueFault.None || _nextUsed == _signalledUsed)
        {
            return false;
        }

        // Our used index store must be visible before we read what the driver asked for.
        Interlocked.MemoryBarrier();
        ushort previous = _signalledUsed;
        _signalledUsed = _nextUsed;
        if (_eventIdx)
        {
            if (!TryReadU16(memory, DriverArea + 4 + (2 * (ulong)Size), out ushort usedEvent))
            {
                return false;
            }

            return (ushort)(_nextUsed - usedEvent - 1) < (ushort)(_nextUsed - previous);
        }

        return TryReadU16(memory, DriverArea, out ushort flags) && (flags & AvailNoInterrupt) == 0;
    }

    /// <summary>Follows the chain from <paramref name="head"/> into <see cref="_buffers"/>, checking every descriptor.</summary>
    private bool TryWalk(IGuestMemory memory, ushort head, out int count, out int readable, out ulong readableLength, out ulong writableLength)
    {
        count = readable = 0;
        readableLength = writableLength = 0;
        ulong table = DescriptorTable;
        uint tableEntries = Size;
        bool inIndirect = false;
        bool seenWritable = false;
        uint index = head;
        Span<byte> raw = stackalloc byte[DescriptorSize];
        while (true)
        {
            if (!memory.TryRead(table + ((ulong)index * DescriptorSize), raw))
            {
                return Stop(VirtQueueFault.RingInaccessible);
            }

            ulong address = BinaryPrimitives.ReadUInt64LittleEndian(raw);
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(raw[8..]);
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(raw[12..]);
            ushort next = BinaryPrimitives.ReadUInt16LittleEndian(raw[14..]);

            if ((flags & DescriptorIndirect) != 0)
            {
                if (!_indirect)
                {
                    return Stop(VirtQueueFault.IndirectNotNegotiated);
                }

                if (inIndirect || (flags & DescriptorNext) != 0)
                {
                    return Stop(VirtQueueFault.IndirectMisused);
                }

                if (length == 0 || length % DescriptorSize != 0 || length / DescriptorSize > MaxQueueSize)
                {
                    return Stop(VirtQueueFault.IndirectTableBadLength);
                }

                if (address > ulong.MaxValue - length || !memory.IsValidRange(address, length))
                {
                    return Stop(VirtQueueFault.BufferOutsideMemory);
                }

                table = address;
                tableEntries = length / DescriptorSize;
                inIndirect = true;
                index = 0;
                continue;
            }

            if (length == 0)
            {
                return Stop(VirtQueueFault.EmptyBuffer);
            }

            if (address > ulong.MaxValue - length || !memory.IsValidRange(address, length))
            {
                return Stop(VirtQueueFault.BufferOutsideMemory);
            }

            bool writable = (flags & DescriptorWrite) != 0;
            if (!writable && seenWritable)
            {
                return Stop(VirtQueueFault.ReadableAfterWritable);
            }

            // Every buffer counts against the queue size, so a loop — in the table or an indirect table — ends here.
            if (count == Size)
            {
                return Stop(VirtQueueFault.ChainTooLong);
            }

            _buffers[count++] = new GuestBuffer(address, length);
            if (writable)
            {
                seenWritable = true;
                writableLength += length;
            }
            else
            {
                readable++;
                readableLength += length;
            }

            if ((flags & DescriptorNext) == 0)
            {
                return true;
            }

            if (next >= tableEntries)
            {
                return Stop(VirtQueueFault.NextIndexOutOfRange);
            }

            index = next;
        }
    }

    private bool TryReadU16(IGuestMemory memory, ulong address, out ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        if (!memory.TryRead(address, b))
        {
            value = 0;
            return Stop(VirtQueueFault.RingInaccessible);
        }

        value = BinaryPrimitives.ReadUInt16LittleEndian(b);
        return true;
    }

    private bool TryWriteU16(IGuestMemory memory, ulong address, ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, value);
        return memory.TryWrite(address, b) || Stop(VirtQueueFault.RingInaccessible);
    }

    /// <summary>Stops the queue for good (until reset); always returns false so callers can <c>return Stop(...)</c>.</summary>
    private bool Stop(VirtQueueFault fault)
    {
        if (_fault == VirtQueueFault.None)
        {
            _fault = fault;
        }

        return false;
    }
}
