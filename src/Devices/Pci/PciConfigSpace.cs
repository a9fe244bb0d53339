using System.Buffers.Binary;

namespace Platform.Devices.Pci;

/// <summary>
/// The 256 bytes of a PCI function's type-0 configuration space, with per-bit masks for what a guest may change:
/// a bit is read-only, writable, or write-1-to-clear (status error bits). Registers with side effects (BARs, the
/// command register, MSI-X control) are applied here first; <see cref="PciFunction"/> then reacts to them.
/// </summary>
/// <remarks>
/// Not thread-safe on its own: the owning function serializes access. Multi-byte values are little-endian, as PCI.
/// </remarks>
public sealed class PciConfigSpace
{
    public const int Size = 256;

    /// <summary>Capabilities start after the standard type-0 header.</summary>
    public const int FirstCapabilityOffset = 0x40;

    private readonly byte[] _data = new byte[Size];
    private readonly byte[] _writable = new byte[Size];
    private readonly byte[] _writeOneToClear = new byte[Size];
    private int _nextCapability = FirstCapabilityOffset;
    private int _lastCapability;

    public PciConfigSpace(ushort vendorId, ushort deviceId, uint classCode, byte revision = 0)
    {
        SetWord(PciRegisters.VendorId, vendorId);
        SetWord(PciRegisters.DeviceId, deviceId);
        _data[PciRegisters.RevisionId] = revision;
        _data[PciRegisters.ClassCode] = (byte)classCode;          // programming interface
        _data[PciRegisters.ClassCode + 1] = (byte)(classCode >> 8);  // subclass
        _data[PciRegisters.ClassCode + 2] = (byte)(classCode >> 16); // base class

        // What every function lets the guest change: the command register's decode/master/interrupt-disable
        // bits, the cache line size, the latency timer and the interrupt line (a scratch byte firmware fills).
        MakeWritable(PciRegisters.Command, 2, PciRegisters.CommandWritableBits);
        MakeWritable(PciRegisters.CacheLineSize, 1, 0xFF);
        MakeWritable(PciRegisters.LatencyTimer, 1, 0xFF);
        MakeWritable(PciRegisters.InterruptLine, 1, 0xFF);
        MakeWriteOneToClear(PciRegisters.Status, 2, PciRegisters.StatusErrorBits);
    }

    /// <summary>The raw bytes, for the owning function's own reads (never handed to the guest directly).</summary>
    public ReadOnlySpan<byte> Bytes => _data;

    public byte ReadByte(int offset) => _data[offset];

    public ushort ReadWord(int offset) => BinaryPrimitives.ReadUInt16LittleEndian(_data.AsSpan(offset));

    public uint ReadDword(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(_data.AsSpan(offset));

    /// <summary>Sets a byte as the device (not the guest) sees fit, ignoring the masks.</summary>
    public void SetByte(int offset, byte value) => _data[offset] = value;

    public void SetWord(int offset, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(_data.AsSpan(offset), value);

    public void SetDword(int offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(_data.AsSpan(offset), value);

    /// <summary>Lets the guest change the bits of <paramref name="mask"/> (little-endian over <paramref name="length"/> bytes).</summary>
    public void MakeWritable(int offset, int length, ulong mask)
    {
        for (int i = 0; i < length; i++)
        {
            _writable[offset + i] = (byte)(mask >> (8 * i));
        }
    }

    /// <summary>Bits of <paramref name="mask"/> clear when the guest writes 1 to them and ignore a 0.</summary>
    public void MakeWriteOneToClear(int offset, int length, ulong mask)
    {
        for (int i = 0; i < length; i++)
        {
            _writeOneToClear[offset + i] = (byte)(mask >> (8 * i));
        }
    }

    /// <summary>The guest's read; bytes past the end read as zeros (a 4-byte read at 0xFD, say).</summary>
    public void Read(int offset, Span<byte> data)
    {
        data.Clear();
        if ((uint)offset >= Size)
        {
            return;
        }

        int length = Math.Min(data.Length, Size - offset);
        _data.AsSpan(offset, length).CopyTo(data);
    }

    /// <summary>The guest's write, applied through the masks: read-only bits keep their value.</summary>
    public void Write(int offset, ReadOnlySpan<byte> data)
    {
        if ((uint)offset >= Size)
        {
            return;
        }

        int length = Math.Min(data.Length, Size - offset);
        for (int i = 0; i < length; i++)
        {
            int at = offset + i;
            byte value = data[i];
            byte current = _data[at];
            byte writable = _writable[at];
            byte cleared = (byte)(value & _writeOneToClear[at]);
            _data[at] = (byte)(((current & ~writable) | (value & writable)) & ~cleared);
        }
    }

    /// <summary>
    /// Appends a capability: <paramref name="body"/> is everything after the ID and next-pointer bytes. Links it
    /// into the list, sets the status register's capability bit, and returns the capability's offset.
    /// </summary>
    /// <param name="at">Where to put it (dword aligned, past the capabilities already there), when a device's layout is
    /// fixed, as QEMU's ICH9 AHCI has its MSI at 0x80; null: right after the last one.</param>
    public int AddCapability(byte id, ReadOnlySpan<byte> body, int? at = null)
    {
        int length = 2 + body.Length;
        if (at is { } fixedOffset && ((fixedOffset & 3) != 0 || fixedOffset < _nextCapability))
        {
            throw new ArgumentOutOfRangeException(nameof(at), $"A capability cannot go at 0x{fixedOffset:x2}.");
        }

        int offset = at ?? _nextCapability;
        if (offset + length > Size)
        {
            throw new InvalidOperationException($"Capability 0x{id:x2} does not fit in configuration space.");
        }

        _data[offset] = id;
        _data[offset + 1] = 0;
        body.CopyTo(_data.AsSpan(offset + 2));
        if (_lastCapability == 0)
        {
            _data[PciRegisters.CapabilitiesPointer] = (byte)offset;
            SetWord(PciRegisters.Status, (ushort)(ReadWord(PciRegisters.Status) | PciRegisters.StatusCapabilityList));
        }
        else
        {
            _data[_lastCapability + 1] = (byte)offset;
        }

        _lastCapability = offset;
        _nextCapability = (offset + length + 3) & ~3; // capabilities are dword aligned
        return offset;
    }
}
