using Platform.Devices.Virtio.Block;

namespace Platform.Devices.Storage.Ahci;

/// <summary>
/// A SATA hard disk on an AHCI port: the ATA commands (ATA8-ACS) an OS installer and SeaBIOS send a disk — IDENTIFY
/// DEVICE, DMA, PIO and NCQ reads and writes, verify, flush, DATA SET MANAGEMENT (TRIM), the feature and power
/// commands — over the same raw or qcow2 backends virtio-blk uses. Anything else, a sector range past the end, or a
/// write to a read-only disk ends with ERR/ABRT (counted in <see cref="AbortedCommands"/>).
/// </summary>
/// <remarks>
/// Commands come one at a time from the vCPU thread that holds the HBA's lock. The disk owns its backend and closes it
/// in <see cref="Dispose"/>.
/// </remarks>
public sealed partial class AtaDisk : IAtaDevice, IDisposable
{
    public const int SectorSize = 512;

    /// <summary>Count 0x01, LBA 0x01, LBA mid/high 0: an ATA device's signature (ATA8-ACS, table 184).</summary>
    public const uint AtaSignature = 0x0000_0101;

    public const byte DataSetManagement = 0x06;
    public const byte ReadSectors = 0x20;
    public const byte ReadSectorsExt = 0x24;
    public const byte ReadDmaExt = 0x25;
    public const byte ReadMultipleExt = 0x29;
    public const byte WriteSectors = 0x30;
    public const byte WriteSectorsExt = 0x34;
    public const byte WriteDmaExt = 0x35;
    public const byte WriteMultipleExt = 0x39;
    public const byte WriteDmaFuaExt = 0x3D;
    public const byte ReadVerifySectors = 0x40;
    public const byte ReadVerifySectorsExt = 0x42;
    public const byte ReadFpdmaQueued = 0x60;
    public const byte WriteFpdmaQueued = 0x61;
    public const byte ExecuteDeviceDiagnostic = 0x90;
    public const byte ReadMultiple = 0xC4;
    public const byte WriteMultiple = 0xC5;
    public const byte SetMultipleMode = 0xC6;
    public const byte ReadDma = 0xC8;
    public const byte WriteDma = 0xCA;
    public const byte StandbyImmediate = 0xE0;
    public const byte IdleImmediate = 0xE1;
    public const byte Standby = 0xE2;
    public const byte Idle = 0xE3;
    public const byte CheckPowerMode = 0xE5;
    public const byte FlushCache = 0xE7;
    public const byte FlushCacheExt = 0xEA;
    public const byte IdentifyDevice = 0xEC;
    public const byte SetFeatures = 0xEF;

    /// <summary>NCQ's queue depth, as QEMU's AHCI disks offer it: one tag per command slot.</summary>
    public const int QueueDepth = 32;

    /// <summary>The most sectors READ/WRITE MULTIPLE move per DRQ block (IDENTIFY word 47), QEMU's value.</summary>
    public const int MaxMultipleSectors = 16;

    /// <summary>512-byte blocks of range entries one DATA SET MANAGEMENT command may carry (IDENTIFY word 105).</summary>
    public const int MaxTrimBlocks = 8;

    public const string Model = "Platform HARDDISK";
    public const string FirmwareRevision = "1.0";

    private const byte FeatureEnableWriteCache = 0x02;
    private const byte FeatureDisableWriteCache = 0x82;
    private const byte FeatureSetTransferMode = 0x03;
    private const byte FeatureDsmTrim = 0x01;

    private readonly IBlockBackend _backend;
    private readonly string _serial;
    private bool _writeCache = true;
    private int _multipleSectors = MaxMultipleSectors;

    /// <param name="backend">The disk's image; the disk owns it from now on.</param>
    /// <param name="serial">What IDENTIFY reports as the serial number (20 characters at most).</param>
    public AtaDisk(IBlockBackend backend, string serial)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentException.ThrowIfNullOrEmpty(serial);
        _backend = backend;
        _serial = serial;
    }

    public uint Signature => AtaSignature;

    /// <summary>The disk's size in whole sectors (a trailing partial sector of the image is not addressable).</summary>
    public ulong SectorCount => (ulong)_backend.Length / SectorSize;

    public bool IsReadOnly => _backend.IsReadOnly;

    /// <summary>Whether TRIM is offered: only when the backend can release space.</summary>
    public bool SupportsTrim => _backend.SupportsDiscard;

    public IBlockBackend Backend => _backend;

    public long ReadCommands { get; private set; }

    public long WriteCommands { get; private set; }

    public long FlushCommands { get; private set; }

    public long TrimCommands { get; private set; }

    public long QueuedCommands { get; private set; }

    public long BytesRead { get; private set; }

    public long BytesWritten { get; private set; }

    /// <summary>Commands ended with ERR/ABRT: unknown ones, bad ranges, writes to a read-only disk.</summary>
    public long AbortedCommands { get; private set; }

    /// <summary>Commands whose backend I/O failed (ERR with UNC for reads, ABRT for writes and flushes).</summary>
    public long FailedIo { get; private set; }

    /// <summary>
    /// Grows the disk's image to <paramref name="newSize"/> bytes (block_resize). ATA has no notice of a capacity
    /// change: the guest sees the new size the next time it reads IDENTIFY DEVICE (Linux when the disk is rescanned),
    /// as with QEMU's AHCI disks. The backend takes the change while commands run.
    /// </summary>
    /// <exception cref="DiskImageException">The backend cannot grow, or not to that size.</exception>
    public void Grow(long newSize)
    {
        if (_backend is not IGrowableDisk growable)
        {
            throw new DiskImageException("this disk's backend cannot grow");
        }

        growable.Grow(newSize);
    }

    public void Reset()
    {
        // A reset leaves SET FEATURES' write cache as it was (ATA8-ACS 4.20: unless "revert to defaults" was set).
        _multipleSectors = MaxMultipleSectors;
    }

    public int DataOutLength(in AtaCommand command)
    {
        if (!TryDecodeTransfer(command, out var transfer) || !transfer.Write)
        {
            return command.Command == DataSetManagement && SupportsTrim && (command.Features & FeatureDsmTrim) != 0 &&
                command.Count is > 0 and <= MaxTrimBlocks && !IsReadOnly
                ? command.Count * SectorSize
                : 0;
        }

        return InRange(transfer) && !IsReadOnly ? transfer.Bytes : 0;
    }

    public AtaResult Execute(in AtaCommand command, ReadOnlySpan<byte> packet, AtaTransferBuffer buffer)
    {
        if (TryDecodeTransfer(command, out var transfer))
        {
            QueuedCommands += command.Command is ReadFpdmaQueued or WriteFpdmaQueued ? 1 : 0;
            return transfer.Write ? WriteData(transfer, buffer) : transfer.Verify ? Verify(transfer) : ReadData(transfer, buffer);
        }

        switch (command.Command)
        {
            case IdentifyDevice:
                if (!buffer.TryReserve(SectorSize, out var data))
                {
                    return Abort();
                }

                Identify(data);
                return AtaResult.Ok(AtaProtocol.PioIn, SectorSize);
            case FlushCache:
            case FlushCacheExt:
                return Flush();
            case DataSetManagement:
                return Trim(command, buffer);
            case SetFeatures:
                return SetFeature(command);
            case SetMultipleMode:
                int sectors = command.Count & 0xFF;
                if (sectors > MaxMultipleSectors || (sectors & (sectors - 1)) != 0)
                {
                    return Abort();
                }

                _multipleSectors = sectors;
                return AtaResult.Ok();
            case ExecuteDeviceDiagnostic:
                Reset();
                return new AtaResult(AtaResult.StatusOk, 1, AtaProtocol.NonData, 0, (ushort)(AtaSignature & 0xFF), AtaSignature >> 8);
            case Idle:
            case IdleImmediate:
            case Standby:
            case StandbyImmediate:
                return AtaResult.Ok(); // a virtual disk has no spindle to stop; the guest's power policy is a no-op
            case CheckPowerMode:
                return AtaResult.Ok(count: 0xFF); // active or idle
            default:
                return Abort();
        }
    }

    public void Dispose() => _backend.Dispose();

    private AtaResult SetFeature(in AtaCommand command)
    {
        switch ((byte)command.Features)
        {
            case FeatureEnableWriteCache:
                _writeCache = true;
                return AtaResult.Ok();
            case FeatureDisableWriteCache:
                // From now on each write is flushed before it completes, as a drive without a cache would.
                _writeCache = false;
                return AtaResult.Ok();
            case FeatureSetTransferMode:
                return AtaResult.Ok(); // PIO, multiword or Ultra DMA: all the same to a virtual disk
            default:
                return Abort();
        }
    }

    private AtaResult Abort()
    {
        AbortedCommands++;
        return AtaResult.Aborted();
    }
}
