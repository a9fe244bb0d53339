namespace Platform.Engine.Boot.Disk;

/// <summary>How the disk is divided.</summary>
public enum PartitionScheme
{
    /// <summary>No partition table: the disk is one file system (or nothing we know).</summary>
    None,
    Mbr,
    Gpt,
}

/// <summary>
/// A disk's partitions, read from its GPT or MBR (with the logical partitions of an extended one), numbered as Linux
/// numbers them. A damaged entry is left out with a note rather than failing the whole disk; a disk with no table
/// is one "whole disk" partition.
/// </summary>
internal sealed record PartitionTable(PartitionScheme Scheme, IReadOnlyList<DiskPartition> Partitions, IReadOnlyList<string> Notes)
{
    public const int SectorSize = 512;

    public static PartitionTable Read(DiskReader disk)
    {
        if (disk.Length < SectorSize * 2L)
        {
            throw new BootException($"{disk.Name}: the image is {disk.Length} bytes, too small to hold a partition table or a file system.");
        }

        byte[] mbr = new byte[SectorSize];
        disk.Read(0, mbr);
        byte[] lba1 = new byte[SectorSize];
        disk.Read(SectorSize, lba1);
        bool gptSignature = lba1.AsSpan(0, 8).SequenceEqual(GptPartitionTable.Signature);
        var mbrTable = MbrPartitionTable.TryParse(mbr);
        if (gptSignature || mbrTable?.HasProtectiveEntry == true)
        {
            return GptPartitionTable.Read(disk);
        }

        if (mbrTable is { Entries.Count: > 0 })
        {
            return MbrPartitionTable.Read(disk, mbrTable);
        }

        var whole = new DiskPartition(0, 0, disk.Length, "none", PartitionRole.WholeDisk, Bootable: false);
        return new PartitionTable(PartitionScheme.None, [whole], []);
    }

    /// <summary>
    /// The order to look for a boot configuration in: the BLS boot partitions (ESP, XBOOTLDR / 0xEA), then those
    /// marked bootable, then Linux partitions, then the rest; each group in partition order. Swap, containers and
    /// extended partitions are left out.
    /// </summary>
    public IReadOnlyList<DiskPartition> BootSearchOrder() =>
    [
        .. Partitions
            .Where(p => p.Role is not (PartitionRole.Swap or PartitionRole.Container or PartitionRole.NoFileSystem))
            .OrderBy(p => p.Role switch
            {
                PartitionRole.EfiSystem or PartitionRole.ExtendedBoot => 0,
                _ when p.Bootable => 1,
                PartitionRole.Linux or PartitionRole.WholeDisk => 2,
                _ => 3,
            })
            .ThenBy(p => p.Number),
    ];
}
