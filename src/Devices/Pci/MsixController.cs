using System.Buffers.Binary;

namespace Platform.Devices.Pci;

/// <summary>
/// MSI-X for one function (PCI 3.0, section 6.8.2): the table of vectors (address, data, per-vector mask), the
/// pending-bit array, and the capability's enable and function-mask bits. A vector triggered while masked becomes
/// pending and is delivered when it is unmasked.
/// </summary>
/// <remarks>
/// The table and PBA live in one of the function's BARs; the function forwards accesses there (offsets relative to
/// the table or PBA). Table entries accept aligned dword and qword accesses, as the spec requires; anything else is
/// counted and ignored. The PBA is read-only. Workers call <see cref="Trigger"/>; vCPU threads do the rest.
/// </remarks>
public sealed class MsixController
{
    public const int CapabilityLength = 12;
    public const int MessageControlOffset = 2;
    public const ushort ControlEnable = 1 << 15;
    public const ushort ControlFunctionMask = 1 << 14;
    public const int EntrySize = 16;
    public const int MaxVectors = 2048;

    private const int EntryAddressLow = 0, EntryAddressHigh = 4, EntryData = 8, EntryVectorControl = 12;
    private const uint VectorControlMask = 1;

    private readonly Lock _lock = new();
    private readonly IMsiTarget _target;
    private readonly ulong[] _address;
    private readonly uint[] _data;
    private readonly bool[] _vectorMasked;
    private readonly ulong[] _pending;
    private bool _enabled;
    private bool _functionMasked;
    private long _badAccesses;

    public MsixController(int vectorCount, IMsiTarget target, PciBarLocation table, PciBarLocation pba)
    {
        if (vectorCount < 1 || vectorCount > MaxVectors)
        {
            throw new ArgumentOutOfRangeException(nameof(vectorCount), $"MSI-X has 1 to {MaxVectors} vectors.");
        }

        if ((table.Offset & 7) != 0 || (pba.Offset & 7) != 0 || table.Offset > uint.MaxValue || pba.Offset > uint.MaxValue)
        {
            throw new ArgumentException("The MSI-X table and PBA must be qword aligned within a BAR.");
        }

        VectorCount = vectorCount;
        _target = target;
        Table = table;
        Pba = pba;
        _address = new ulong[vectorCount];
        _data = new uint[vectorCount];
        _vectorMasked = new bool[vectorCount];
        _pending = new ulong[(vectorCount + 63) / 64];
        _vectorMasked.AsSpan().Fill(true); // every vector starts masked
    }

    public int VectorCount { get; }

    public PciBarLocation Table { get; }

    public PciBarLocation Pba { get; }

    public ulong TableLength => (ulong)VectorCount * EntrySize;

    public ulong PbaLength => (ulong)_pending.Length * 8;

    /// <summary>The capability's MSI-X Enable bit: while clear the function uses INTx.</summary>
    public bool Enabled => Volatile.Read(ref _enabled);

    public bool FunctionMasked => Volatile.Read(ref _functionMasked);

    /// <summary>Table or PBA accesses that were ignored (odd width or alignment, writes to the PBA).</summary>
    public long BadAccesses => Interlocked.Read(ref _badAccesses);

    /// <summary>
    /// Raises <paramref name="vector"/>: delivered now if unmasked, else its pending bit is set. Returns false when
    /// MSI-X is disabled, so the caller signals through INTx instead. A vector past the table is dropped (a
    /// transport checks vectors when the guest assigns them).
    /// </summary>
    public bool Trigger(int vector)
    {
        lock (_lock)
        {
            if (!_enabled)
            {
                return false;
            }

            if ((uint)vector >= (uint)VectorCount)
            {
                return true;
            }

            if (IsMasked(vector))
            {
                _pending[vector >> 6] |= 1UL << (vector & 63);
            }
            else
            {
                _target.Signal(vector, Message(vector));
            }

            return true;
        }
    }

    public bool IsPending(int vector)
    {
        lock (_lock)
        {
            return (_pending[vector >> 6] & (1UL << (vector & 63))) != 0;
        }
    }

    /// <summary>The guest reads the table at <paramref name="offset"/> from its start.</summary>
    public void ReadTable(ulong offset, Span<byte> data)
    {
        if (!IsAlignedAccess(offset, data.Length, TableLength))
        {
            Interlocked.Increment(ref _badAccesses);
            data.Clear();
            return;
        }

        lock (_lock)
        {
            for (int done = 0; done < data.Length; done += 4)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(data[done..], ReadTableDword(offset + (ulong)done));
            }
        }
    }

    public void WriteTable(ulong offset, ReadOnlySpan<byte> data)
    {
        if (!IsAlignedAccess(offset, data.Length, TableLength))
        {
            Interlocked.Increment(ref _badAccesses);
            return;
        }

        lock (_lock)
        {
            int vector = (int)(offset / EntrySize);
            bool wasMasked = IsMasked(vector);
            var before = Message(vector);
            for (int done = 0; done < data.Length; done += 4)
            {
                WriteTableDword(offset + (ulong)done, BinaryPrimitives.ReadUInt32LittleEndian(data[done..]));
            }

            bool masked = IsMasked(vector);
            var after = Message(vector);
            // The engine only needs routes for vectors that can fire; a masked vector is reported when it unmasks.
            if (masked != wasMasked || (!masked && after != before))
            {
                _target.VectorChanged(vector, after, masked);
            }

            if (wasMasked && !masked)
            {
                DeliverIfPending(vector);
            }
        }
    }

    /// <summary>The guest reads the pending-bit array (read-only; writes are counted and ignored).</summary>
    public void ReadPba(ulong offset, Span<byte> data)
    {
        if (!IsAlignedAccess(offset, data.Length, PbaLength))
        {
            Interlocked.Increment(ref _badAccesses);
            data.Clear();
            return;
        }

        lock (_lock)
        {
            for (int done = 0; done < data.Length; done += 4)
            {
                ulong at = offset + (ulong)done;
                ulong qword = _pending[at / 8];
                BinaryPrimitives.WriteUInt32LittleEndian(data[done..], (uint)(qword >> (int)(8 * (at % 8))));
            }
        }
    }

    public void WritePba(ulong offset, ReadOnlySpan<byte> data) => Interlocked.Increment(ref _badAccesses);

    /// <summary>Back to power-on: disabled, every vector masked and cleared, nothing pending.</summary>
    public void Reset()
    {
        lock (_lock)
        {
            _address.AsSpan().Clear();
            _data.AsSpan().Clear();
            _vectorMasked.AsSpan().Fill(true);
            _pending.AsSpan().Clear();
            _enabled = false;
            _functionMasked = false;
        }
    }

    /// <summary>The capability after its ID and next pointer: message control (table size), table and PBA BIR/offset.</summary>
    internal void WriteCapabilityBody(Span<byte> body)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(body, (ushort)(VectorCount - 1));
        BinaryPrimitives.WriteUInt32LittleEndian(body[2..], (uint)Table.Offset | (uint)Table.BarIndex);
        BinaryPrimitives.WriteUInt32LittleEndian(body[6..], (uint)Pba.Offset | (uint)Pba.BarIndex);
    }

    /// <summary>The guest wrote message control: enable and function mask may have changed.</summary>
    internal void WriteMessageControl(ushort control)
    {
        lock (_lock)
        {
            bool enabled = (control & ControlEnable) != 0;
            bool functionMasked = (control & ControlFunctionMask) != 0;
            if (enabled == _enabled && functionMasked == _functionMasked)
            {
                return;
            }

            Span<bool> wasMasked = VectorCount <= 256 ? stackalloc bool[VectorCount] : new bool[VectorCount];
            for (int v = 0; v < VectorCount; v++)
            {
                wasMasked[v] = IsMasked(v);
            }

            Volatile.Write(ref _enabled, enabled);
            Volatile.Write(ref _functionMasked, functionMasked);
            for (int v = 0; v < VectorCount; v++)
            {
                bool masked = IsMasked(v);
                if (masked != wasMasked[v])
                {
                    _target.VectorChanged(v, Message(v), masked);
                    if (!masked)
                    {
                        DeliverIfPending(v);
                    }
                }
            }
        }
    }

    private bool IsMasked(int vector) => !_enabled || _functionMasked || _vectorMasked[vector];

    private MsiMessage Message(int vector) => new(_address[vector], _data[vector]);

    private void DeliverIfPending(int vector)
    {
        ulong bit = 1UL << (vector & 63);
        if ((_pending[vector >> 6] & bit) != 0)
        {
            _pending[vector >> 6] &= ~bit;
            _target.Signal(vector, Message(vector));
        }
    }

    private uint ReadTableDword(ulong offset)
    {
        int vector = (int)(offset / EntrySize);
        return (int)(offset % EntrySize) switch
        {
            EntryAddressLow => (uint)_address[vector],
            EntryAddressHigh => (uint)(_address[vector] >> 32),
            EntryData => _data[vector],
            _ => _vectorMasked[vector] ? VectorControlMask : 0,
        };
    }

    private void WriteTableDword(ulong offset, uint value)
    {
        int vector = (int)(offset / EntrySize);
        switch ((int)(offset % EntrySize))
        {
            case EntryAddressLow:
                // Message addresses are dword aligned: the low two bits are reserved and read as zero.
                _address[vector] = (_address[vector] & 0xFFFF_FFFF_0000_0000UL) | (value & ~3U);
                break;
            case EntryAddressHigh:
                _address[vector] = (_address[vector] & 0xFFFF_FFFFUL) | ((ulong)value << 32);
                break;
            case EntryData:
                _data[vector] = value;
                break;
            case EntryVectorControl:
                _vectorMasked[vector] = (value & VectorControlMask) != 0;
                break;
        }
    }

    /// <summary>Dword or qword, naturally aligned, inside the structure.</summary>
    private static bool IsAlignedAccess(ulong offset, int length, ulong structureLength) =>
        (length == 4 || length == 8) && offset % (ulong)length == 0 && offset < structureLength &&
        (ulong)length <= structureLength - offset;
}
