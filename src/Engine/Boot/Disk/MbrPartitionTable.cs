using System.Buffers.Binary;

namespace Platform.Engine.Boot.Disk;

/// <summary>
/// The PC's master boot record: four primary entries at byte 446, the 0x55AA signature at 510, and an extended
/// partition's chain of EBRs holding logical partitions (numbered from 5, in chain order, as Linux does).
/// </summary>
internal sealed class MbrPartitionTable
{
    private const int EntriesOffset = 446;
    private const int EntrySize = 16;
    private const int MaxLogicalPartitions = 128;
    private const byte ProtectiveGpt = 0xEE;

    private MbrPartitionTable(IReadOnlyList<MbrEntry> entries, bool hasProtectiveEntry)
    {
        Entries = entries;
        HasProtectiveEntry = hasProtectiveEntry;
    }

    /// <summary>The non-empty primary entries.</summary>
    public IReadOnlyList<MbrEntry> Entries { get; }

    /// <summary>An 0xEE entry: the disk is GPT (this MBR only protects it from old tools).</summary>
    public bool HasProtectiveEntry { get; }

    /// <summary>One MBR slot; <see cref="Slot"/> is 1–4 for primaries.</summary>
    internal readonly record struct MbrEntry(int Slot, byte Status, byte Type, uint FirstSector, uint Sectors);

    /// <summary>The primary entries, or null when the sector is no MBR (no signature, or status bytes other than 0x00/0x80).</summary>
    public static MbrPartitionTable? TryParse(ReadOnlySpan<byte> sector)
    {
        if (sector.Length < PartitionTable.SectorSize || sector[510] != 0x55 || sector[511] != 0xAA)
        {
            return null;
        }

        var entries = new List<MbrEntry>();
        bool protective = false;
        for (int i = 0; i < 4; i++)
        {
            var entry = ParseEntry(sector, i);
            if (entry.Status is not (0x00 or 0x80))
            {
                // A boot sector of something else (a FAT or NTFS volume, say) that happens to end in 0x55AA.
                return null;
            }

            if (entry.Type == 0 || entry.Sectors == 0)
            {
                continue;
            }

            protective |= entry.Type == ProtectiveGpt;
            entries.Add(entry with { Slot = i + 1 });
        }

        return new MbrPartitionTable(entries, protective);
    }

    public static PartitionTable Read(DiskReader disk, MbrPartitionTable table)
    {
        long diskSectors = disk.Length / PartitionTable.SectorSize;
        var partitions = new List<DiskPartition>();
        var notes = new List<string>();
        MbrEntry? extended = null;
        foreach (var entry in table.Entries)
        {
            if (IsExtended(entry.Type))
            {
                if (extended is null)
                {
                    extended = entry;
                }
                else
                {
                    notes.Add($"MBR slot {entry.Slot}: a second extended partition is ignored");
                }

                continue;
            }

            Add(partitions, notes, entry.Slot, entry, entry.FirstSector, diskSectors);
        }

        if (extended is { } ext)
        {
            ReadLogicalPartitions(disk, ext, diskSectors, partitions, notes);
        }

        return new PartitionTable(PartitionScheme.Mbr, partitions, notes);
    }

    private static void ReadLogicalPartitions(DiskReader disk, MbrEntry extended, long diskSectors, List<DiskPartition> partitions, List<string> notes)
    {
        long extendedStart = extended.FirstSector;
        long ebr = extendedStart;
        var visited = new HashSet<long>();
        byte[] sector = new byte[PartitionTable.SectorSize];
        for (int number = 5; number < 5 + MaxLogicalPartitions; number++)
        {
            if (ebr >= diskSectors || !visited.Add(ebr))
            {
                notes.Add(ebr >= diskSectors
                    ? $"MBR: the extended partition's chain points past the end of the disk (sector {ebr}); logical partitions from {number} on are ignored"
                    : $"MBR: the extended partition's chain loops back to sector {ebr}; logical partitions from {number} on are ignored");
                return;
            }

            disk.Read(ebr * PartitionTable.SectorSize, sector);
            if (sector[510] != 0x55 || sector[511] != 0xAA)
            {
                notes.Add($"MBR: the EBR at sector {ebr} has no 0x55AA signature; logical partitions from {number} on are ignored");
                return;
            }

            var logical = ParseEntry(sector, 0);
            var next = ParseEntry(sector, 1);
            if (logical.Type != 0 && logical.Sectors != 0)
            {
                // The logical partition's start is relative to its own EBR.
                Add(partitions, notes, number, logical, ebr + logical.FirstSector, diskSectors);
            }

            if (next.Type == 0 || next.Sectors == 0 || !IsExtended(next.Type))
            {
                return;
            }

            // The next EBR's start is relative to the extended partition's.
            ebr = extendedStart + next.FirstSector;
        }

        notes.Add($"MBR: more than {MaxLogicalPartitions} logical partitions; the rest are ignored");
    }

    private static void Add(List<DiskPartition> partitions, List<string> notes, int number, MbrEntry entry, long firstSector, long diskSectors)
    {
        if (firstSector == 0 || firstSector >= diskSectors || entry.Sectors > diskSectors - firstSector)
        {
            notes.Add($"partition {number}: sectors {firstSector}–{firstSector + entry.Sectors} lie outside the disk ({diskSectors} sectors); ignored");
            return;
        }

        var role = entry.Type switch
        {
            0x83 => PartitionRole.Linux,
            0xEA => PartitionRole.ExtendedBoot,
            0xEF => PartitionRole.EfiSystem,
            0x82 => PartitionRole.Swap,
            0x8E or 0xFD => PartitionRole.Container,
            _ => PartitionRole.Other,
        };
        partitions.Add(new DiskPartition(number, firstSector * PartitionTable.SectorSize, entry.Sectors * (long)PartitionTable.SectorSize,
            $"0x{entry.Type:x2}", role, entry.Status == 0x80));
    }

    private static bool IsExtended(byte type) => type is 0x05 or 0x0F or 0x85;

    private static MbrEntry ParseEntry(ReadOnlySpan<byte> sector, int index)
    {
        var e = sector.Slice(EntriesOffset + (index * EntrySize), EntrySize);
        return new MbrEntry(index + 1, e[0], e[4], BinaryPrimitives.ReadUInt32LittleEndian(e[8..]), BinaryPrimitives.ReadUInt32LittleEndian(e[12..]));
    }
}
