using System.Buffers.Binary;
using System.Text;

namespace Platform.Engine.Boot.Disk;

/// <summary>
/// The GUID partition table: a header at LBA 1 (a backup in the last sector) and an array of entries, both checked
/// by CRC-32. Partitions are numbered by their index in the array plus one, gaps included, as Linux numbers them.
/// </summary>
internal static class GptPartitionTable
{
    public static ReadOnlySpan<byte> Signature => "EFI PART"u8;

    private const int MinHeaderSize = 92;
    private const int MaxEntries = 1024;
    private const int MaxEntrySize = 4096;
    private const int MaxEntryArrayBytes = 1 << 20;

    public static readonly Guid EfiSystem = new("c12a7328-f81f-11d2-ba4b-00a0c93ec93b");
    public static readonly Guid ExtendedBoot = new("bc13c2ff-59e6-4262-a352-b275fd6f7172");
    public static readonly Guid LinuxData = new("0fc63daf-8483-4772-8e79-3d69d8477de4");
    public static readonly Guid LinuxRootX64 = new("4f68bce3-e8cd-4db1-96e7-fbcaf984b709");
    public static readonly Guid LinuxSwap = new("0657fd6d-a4ab-43c4-84e5-0933c84b4f4f");
    public static readonly Guid BiosBoot = new("21686148-6449-6e6f-744e-656564454649");

    private static readonly Guid[] LinuxTypes =
    [
        LinuxData, LinuxRootX64,
        new("44479540-f297-41b2-9af7-d131d5f0458a"), // root (x86)
        new("8484680c-9521-48c6-9c11-b0720656f69e"), // /usr (x86-64)
        new("933ac7e1-2eb4-4f13-b844-0e14e2aef915"), // /home
        new("3b8f8425-20e0-4f3b-907f-1a25a76f98e8"), // /srv
        new("4d21b016-b534-45c2-a9fb-5c16e091fd2d"), // /var
    ];

    private static readonly Guid[] ContainerTypes =
    [
        new("e6d6d379-f507-44c2-a23c-238f2a3df928"), // LVM
        new("a19d880f-05fc-4d3b-a006-743f0f84911e"), // RAID
        new("ca7d7ccb-63ed-4c53-861c-1742536059cc"), // LUKS
    ];

    public static PartitionTable Read(DiskReader disk)
    {
        long diskSectors = disk.Length / PartitionTable.SectorSize;
        string? primaryProblem = TryRead(disk, 1, diskSectors, out var table);
        if (primaryProblem is null)
        {
            return table!;
        }

        string? backupProblem = TryRead(disk, diskSectors - 1, diskSectors, out table);
        if (backupProblem is null)
        {
            return table! with { Notes = [$"GPT: the primary header is damaged ({primaryProblem}); the backup was used", .. table.Notes] };
        }

        throw new BootException($"{disk.Name}: the GPT is damaged: primary header: {primaryProblem}; backup header: {backupProblem}.");
    }

    /// <returns>Null and the table when the header at <paramref name="lba"/> and its entries check out; otherwise why not.</returns>
    private static string? TryRead(DiskReader disk, long lba, long diskSectors, out PartitionTable? table)
    {
        table = null;
        byte[] header = new byte[PartitionTable.SectorSize];
        disk.Read(lba * PartitionTable.SectorSize, header);
        if (!header.AsSpan(0, 8).SequenceEqual(Signature))
        {
            return $"no \"EFI PART\" signature at sector {lba}";
        }

        uint headerSize = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(12));
        if (headerSize is < MinHeaderSize or > PartitionTable.SectorSize)
        {
            return $"header size {headerSize} is not {MinHeaderSize}–{PartitionTable.SectorSize}";
        }

        uint storedCrc = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(16));
        byte[] copy = header.AsSpan(0, (int)headerSize).ToArray();
        copy.AsSpan(16, 4).Clear();
        if (Crc32.Compute(copy) != storedCrc)
        {
            return "header checksum is wrong";
        }

        ulong myLba = BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(24));
        ulong entriesLba = BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(72));
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(80));
        uint entrySize = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(84));
        uint entriesCrc = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(88));
        if (myLba != (ulong)lba)
        {
            return $"the header says it is at sector {myLba}, not {lba}";
        }

        if (entrySize < 128 || entrySize > MaxEntrySize || entrySize % 128 != 0)
        {
            return $"entry size {entrySize} is not a multiple of 128 up to {MaxEntrySize}";
        }

        if (count > MaxEntries || (long)count * entrySize > MaxEntryArrayBytes)
        {
            return $"{count} entries of {entrySize} bytes are more than this reader takes ({MaxEntries})";
        }

        long arrayBytes = (long)count * entrySize;
        if (entriesLba < 2 || entriesLba >= (ulong)diskSectors || arrayBytes > (diskSectors - (long)entriesLba) * PartitionTable.SectorSize)
        {
            return $"the entry array at sector {entriesLba} does not fit in the disk";
        }

        byte[] entries = new byte[arrayBytes];
        disk.Read((long)entriesLba * PartitionTable.SectorSize, entries);
        if (Crc32.Compute(entries) != entriesCrc)
        {
            return "the entry array's checksum is wrong";
        }

        var partitions = new List<DiskPartition>();
        var notes = new List<string>();
        for (int i = 0; i < count; i++)
        {
            var entry = entries.AsSpan(i * (int)entrySize, (int)entrySize);
            var type = new Guid(entry[..16]);
            if (type == Guid.Empty)
            {
                continue;
            }

            ulong first = BinaryPrimitives.ReadUInt64LittleEndian(entry[32..]);
            ulong last = BinaryPrimitives.ReadUInt64LittleEndian(entry[40..]);
            ulong attributes = BinaryPrimitives.ReadUInt64LittleEndian(entry[48..]);
            int number = i + 1;
            if (first < 2 || first > last || last >= (ulong)diskSectors)
            {
                notes.Add($"partition {number}: sectors {first}–{last} lie outside the disk ({diskSectors} sectors); ignored");
                continue;
            }

            string name = Encoding.Unicode.GetString(entry.Slice(56, 72)).TrimEnd('\0');
            var role = RoleOf(type);
            partitions.Add(new DiskPartition(number, (long)first * PartitionTable.SectorSize, (long)(last - first + 1) * PartitionTable.SectorSize,
                name.Length > 0 ? $"{type} \"{name}\"" : type.ToString(), role, (attributes & 0b100) != 0));
        }

        table = new PartitionTable(PartitionScheme.Gpt, partitions, notes);
        return null;
    }

    private static PartitionRole RoleOf(Guid type) =>
        type == EfiSystem ? PartitionRole.EfiSystem
        : type == ExtendedBoot ? PartitionRole.ExtendedBoot
        : type == LinuxSwap ? PartitionRole.Swap
        : type == BiosBoot ? PartitionRole.NoFileSystem
        : Array.IndexOf(LinuxTypes, type) >= 0 ? PartitionRole.Linux
        : Array.IndexOf(ContainerTypes, type) >= 0 ? PartitionRole.Container
        : PartitionRole.Other;
}
