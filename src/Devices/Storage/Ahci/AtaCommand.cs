namespace Platform.Devices.Storage.Ahci;

/// <summary>The task-file registers of a host-to-device register FIS (ATA8-ACS's command inputs), as the HBA read them.</summary>
public readonly record struct AtaCommand(byte Command, ushort Features, ulong Lba, ushort Count, byte Device)
{
    /// <summary>Decodes the first 16 bytes of a register H2D FIS (Serial ATA 3.0, 10.3.4).</summary>
    public static AtaCommand FromFis(ReadOnlySpan<byte> fis) => new(
        fis[2],
        (ushort)(fis[3] | (fis[11] << 8)),
        fis[4] | ((ulong)fis[5] << 8) | ((ulong)fis[6] << 16) | ((ulong)fis[8] << 24) | ((ulong)fis[9] << 32) | ((ulong)fis[10] << 40),
        (ushort)(fis[12] | (fis[13] << 8)),
        fis[7]);

    /// <summary>The LBA of a 28-bit command: 24 bits from the LBA registers, the top four from the device register.</summary>
    public ulong Lba28 => (Lba & 0xFF_FFFF) | ((ulong)(Device & 0x0F) << 24);

    /// <summary>A 28-bit command's sector count: the low count byte, 0 meaning 256.</summary>
    public int Count28 => (Count & 0xFF) == 0 ? 256 : Count & 0xFF;

    /// <summary>A 48-bit command's sector count: 0 means 65,536.</summary>
    public int Count48 => Count == 0 ? 65536 : Count;
}

/// <summary>How a command's data moves, which decides the FISes the HBA posts at its end.</summary>
public enum AtaProtocol
{
    /// <summary>No data: a D2H register FIS ends it.</summary>
    NonData,

    /// <summary>PIO data-in (IDENTIFY): a PIO setup FIS, whose ending status Linux reads, then a D2H register FIS.</summary>
    PioIn,

    /// <summary>DMA data-in: a D2H register FIS when the data is in memory.</summary>
    DmaIn,

    /// <summary>PIO data-out (WRITE SECTOR(S)): the HBA gathered the data first; a PIO setup FIS, then a D2H register FIS.</summary>
    PioOut,

    /// <summary>DMA data-out: the HBA gathered the data first; a D2H register FIS.</summary>
    DmaOut,
}

/// <summary>
/// How a device ended a command: its status and error registers, the registers it sets besides (the signature, ATAPI's
/// interrupt reason in the count), and the data it produced in the port's transfer buffer.
/// </summary>
public readonly record struct AtaResult(byte Status, byte Error, AtaProtocol Protocol, int DataLength, ushort Count = 0, ulong Lba = 0)
{
    public const byte StatusBusy = 0x80;
    public const byte StatusReady = 0x40;
    public const byte StatusSeek = 0x10;
    public const byte StatusDrq = 0x08;
    public const byte StatusError = 0x01;
    public const byte ErrorAbort = 0x04;

    /// <summary>DRDY | DSC, ATA's "done, no error".</summary>
    public const byte StatusOk = StatusReady | StatusSeek;

    public bool Failed => (Status & StatusError) != 0;

    public static AtaResult Ok(AtaProtocol protocol = AtaProtocol.NonData, int dataLength = 0, ushort count = 0) =>
        new(StatusOk, 0, protocol, dataLength, count);

    /// <summary>The command is not one the device does (or its inputs are wrong): ERR with ABRT.</summary>
    public static AtaResult Aborted(ushort count = 0, ulong lba = 0) =>
        new(StatusReady | StatusError, ErrorAbort, AtaProtocol.NonData, 0, count, lba);
}

/// <summary>
/// The bytes a command hands the HBA to scatter into the guest's PRDT, or the HBA gathered from it for the device: one
/// buffer per port, grown on demand up to <see cref="MaxLength"/>, so a command allocates nothing once the port has seen
/// its largest transfer. Page-aligned, so a disk opened with O_DIRECT reads and writes it in place.
/// </summary>
public sealed class AtaTransferBuffer
{
    /// <summary>
    /// The largest transfer a command may ask for (READ(12) could ask for terabytes): 32 MiB, which is also the most a
    /// 48-bit ATA command moves (65,536 sectors).
    /// </summary>
    public const int MaxLength = 32 << 20;

    private Virtio.Block.AlignedBuffer _bytes = new(4096);

    /// <summary>A zeroed span of <paramref name="length"/> bytes, or false when that is more than <see cref="MaxLength"/>.</summary>
    public bool TryReserve(int length, out Span<byte> data)
    {
        if (length < 0 || length > MaxLength)
        {
            data = default;
            return false;
        }

        if (_bytes.Length < length)
        {
            _bytes = new Virtio.Block.AlignedBuffer(Math.Min(MaxLength, Math.Max(length, _bytes.Length * 2)));
        }

        data = _bytes.Span[..length];
        data.Clear();
        return true;
    }

    public ReadOnlySpan<byte> Data(int length) => _bytes.Span[..length];
}

/// <summary>A device on an AHCI port: a disk or an ATAPI drive, executing one command at a time.</summary>
public interface IAtaDevice
{
    /// <summary>PxSIG after a reset: 0x00000101 for an ATA disk, 0xEB140101 for an ATAPI device.</summary>
    uint Signature { get; }

    /// <summary>
    /// Runs <paramref name="command"/>; <paramref name="packet"/> is the 16-byte ATAPI command area (PACKET only). For a
    /// data-out command the buffer holds the <see cref="DataOutLength"/> bytes the HBA gathered from the PRDT.
    /// </summary>
    AtaResult Execute(in AtaCommand command, ReadOnlySpan<byte> packet, AtaTransferBuffer buffer);

    /// <summary>
    /// The bytes the host sends with <paramref name="command"/> (writes), which the HBA gathers before
    /// <see cref="Execute"/>; 0 for a command without data out, or one the device will refuse anyway.
    /// </summary>
    int DataOutLength(in AtaCommand command) => 0;

    /// <summary>A port or HBA reset: the device forgets what it was doing (not its medium).</summary>
    void Reset();
}
