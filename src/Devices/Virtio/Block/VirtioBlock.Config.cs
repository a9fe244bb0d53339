using System.Buffers.Binary;

namespace Platform.Devices.Virtio.Block;

// struct virtio_blk_config (virtio 1.2 5.2.4), up to write_zeroes_may_unmap: read-only to the driver.
public sealed partial class VirtioBlock
{
    public const int ConfigLength = 0x3C;

    private const int ConfigCapacity = 0x00, ConfigSegMax = 0x0C, ConfigBlockSize = 0x14, ConfigNumQueues = 0x22;
    private const int ConfigMaxDiscardSectors = 0x24, ConfigMaxDiscardSegments = 0x28, ConfigDiscardAlignment = 0x2C;
    private const int ConfigMaxWriteZeroesSectors = 0x30, ConfigMaxWriteZeroesSegments = 0x34, ConfigWriteZeroesMayUnmap = 0x38;

    public override void ReadConfig(int offset, Span<byte> data)
    {
        Span<byte> config = stackalloc byte[ConfigLength];
        config.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(config[ConfigCapacity..], CapacitySectors);
        // Two descriptors of every chain carry the header and the status (QEMU advertises the same).
        BinaryPrimitives.WriteUInt32LittleEndian(config[ConfigSegMax..], (uint)(_queueSize - 2));
        BinaryPrimitives.WriteUInt32LittleEndian(config[ConfigBlockSize..], SectorSize);
        BinaryPrimitives.WriteUInt16LittleEndian(config[ConfigNumQueues..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(config[ConfigMaxDiscardSectors..], MaxSectorsPerSegment);
        BinaryPrimitives.WriteUInt32LittleEndian(config[ConfigMaxDiscardSegments..], MaxDiscardSegments);
        BinaryPrimitives.WriteUInt32LittleEndian(config[ConfigDiscardAlignment..], 4096 / SectorSize);
        BinaryPrimitives.WriteUInt32LittleEndian(config[ConfigMaxWriteZeroesSectors..], MaxSectorsPerSegment);
        BinaryPrimitives.WriteUInt32LittleEndian(config[ConfigMaxWriteZeroesSegments..], MaxDiscardSegments);
        config[ConfigWriteZeroesMayUnmap] = _backend.SupportsDiscard ? (byte)1 : (byte)0;
        config.Slice(offset, data.Length).CopyTo(data);
    }
}
