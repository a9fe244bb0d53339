using System.Buffers.Binary;
using Platform.Devices.Abstractions;

namespace Platform.Devices.Firmware;

/// <summary>
/// QEMU's firmware configuration device on x86 (<c>fw_cfg</c>), how SeaBIOS and OVMF learn the machine: the memory map,
/// the boot order, the vCPU count, and later ACPI tables. A 16-bit write to port 0x510 selects an item, byte reads from
/// 0x511 walk it, and the DMA interface at 0x514 (QEMU's, as SeaBIOS uses it) moves whole items into guest memory.
/// </summary>
/// <remarks>
/// <para>
/// Register it for <see cref="PortCount"/> ports at <see cref="BasePort"/>: offset 0 is the selector (a 16-bit write),
/// offsets 0–1 read the data byte by byte as QEMU's combined register does, offsets 4–11 are the DMA address register,
/// big-endian as on every QEMU target (a 32-bit write at 4 sets the high half, one at 8 the low half and starts the
/// transfer; reading it gives "QEMU CFG"). Reads past an item's end, and of items that do not exist, give zeros.
/// </para>
/// <para>
/// No item is writable yet: a DMA write ends with the error bit, as QEMU's does for a read-only item. Anything else the
/// guest does wrong (odd widths, writes to the data port) is counted in <see cref="BadAccesses"/> and ignored. One lock
/// keeps the selection, the offset and each DMA transfer whole when vCPUs race, as QEMU's one device state does.
/// </para>
/// </remarks>
public sealed partial class FwCfgDevice : IBusDevice
{
    public const ushort BasePort = 0x510;
    public const int PortCount = 12;

    private const ulong SelectorOffset = 0, DataOffset = 1, DmaOffset = 4, DmaLowOffset = 8, DmaEnd = 12;

    private static readonly KeyValuePair<string, object?> DeviceTag = new("device", "fw_cfg");

    private readonly Dictionary<ushort, byte[]> _items;
    private readonly Dictionary<ushort, Func<byte[]>> _generators = [];
    private readonly IGuestMemory _memory;
    private readonly Lock _lock = new();
    private byte[]? _selected;
    private int _offset;
    private uint _dmaAddressHigh;
    private long _badAccesses;
    private long _dmaTransfers;
    private long _dmaErrors;

    public FwCfgDevice(FwCfgContents contents, IGuestMemory memory)
    {
        ArgumentNullException.ThrowIfNull(contents);
        _items = contents.Build(dma: true, _generators);
        _memory = memory;
    }

    public long BadAccesses => Interlocked.Read(ref _badAccesses);

    /// <summary>DMA requests handled, and how many of those ended with the error bit.</summary>
    public long DmaTransfers => Interlocked.Read(ref _dmaTransfers);

    public long DmaErrors => Interlocked.Read(ref _dmaErrors);

    public void Read(ulong offset, Span<byte> data)
    {
        lock (_lock)
        {
            if (offset <= DataOffset && data.Length == 1)
            {
                data[0] = NextByte();
            }
            else if (offset >= DmaOffset && offset + (ulong)data.Length <= DmaEnd)
            {
                "QEMU CFG"u8.Slice((int)(offset - DmaOffset), data.Length).CopyTo(data);
            }
            else
            {
                data.Clear();
                CountBadAccess();
            }
        }
    }

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            if (offset == SelectorOffset && data.Length == 2)
            {
                Select(BinaryPrimitives.ReadUInt16LittleEndian(data));
            }
            else if (offset == DmaOffset && data.Length == 4)
            {
                _dmaAddressHigh = BinaryPrimitives.ReadUInt32BigEndian(data);
            }
            else if (offset == DmaLowOffset && data.Length == 4)
            {
                ulong address = ((ulong)_dmaAddressHigh << 32) | BinaryPrimitives.ReadUInt32BigEndian(data);
                _dmaAddressHigh = 0; // each request starts from a fresh address, as QEMU's register does
                Transfer(address);
            }
            else
            {
                // Data-port writes (QEMU has ignored them since 2.4), narrow selector writes, stray DMA halves.
                CountBadAccess();
            }
        }
    }

    /// <summary>Selects item <paramref name="key"/> from its first byte; an unknown key selects nothing (reads give zeros).</summary>
    private void Select(ushort key)
    {
        key = (ushort)(key & ~FwCfgKeys.WriteChannel);
        if (_generators.Remove(key, out var generate))
        {
            Generate(key, generate);
        }

        _items.TryGetValue(key, out _selected);
        _offset = 0;
    }

    /// <summary>Makes a generated file's contents on its first selection (once per boot, as QEMU's ACPI tables).</summary>
    private void Generate(ushort key, Func<byte[]> generate)
    {
        byte[] contents = generate();
        if (contents.Length != _items[key].Length)
        {
            // The directory already told the firmware the length; a different one would be read short or padded.
            throw new InvalidOperationException(
                $"fw_cfg item 0x{key:x4} was generated with {contents.Length} bytes; its directory entry says {_items[key].Length}.");
        }

        _items[key] = contents;
    }

    private byte NextByte() => _selected is { } item && _offset < item.Length ? item[_offset++] : (byte)0;

    private void CountBadAccess()
    {
        Interlocked.Increment(ref _badAccesses);
        DeviceCounters.BadAccesses.Add(1, DeviceTag);
    }
}
