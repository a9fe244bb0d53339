using System.Buffers.Binary;
using System.Text;

namespace Platform.Engine.Boot.Disk;

/// <summary>
/// The ext2/3/4 superblock (1024 bytes at byte 1024 of the file system), checked field by field before anything
/// trusts it: a block size of 1–64 KiB, group sizes a bitmap block can describe, an inode count the groups can hold,
/// a block count that fits the partition, and only the incompatible features this reader understands.
/// </summary>
internal sealed class Ext4Superblock
{
    public const int Offset = 1024;
    public const int Size = 1024;
    public const ushort Magic = 0xEF53;

    // s_feature_compat
    private const uint CompatHasJournal = 0x4;

    // s_feature_incompat
    private const uint IncompatCompression = 0x1;
    private const uint IncompatFileType = 0x2;
    private const uint IncompatRecover = 0x4;
    private const uint IncompatJournalDevice = 0x8;
    private const uint IncompatMetaBg = 0x10;
    private const uint IncompatExtents = 0x40;
    private const uint Incompat64Bit = 0x80;
    private const uint IncompatMmp = 0x100;
    private const uint IncompatFlexBg = 0x200;
    private const uint IncompatEaInode = 0x400;
    private const uint IncompatDirData = 0x1000;
    private const uint IncompatCsumSeed = 0x2000;
    private const uint IncompatLargeDir = 0x4000;
    private const uint IncompatInlineData = 0x8000;
    private const uint IncompatEncrypt = 0x10000;
    private const uint IncompatCasefold = 0x20000;

    private const uint Understood = IncompatFileType | IncompatRecover | IncompatMetaBg | IncompatExtents | Incompat64Bit | IncompatMmp
        | IncompatFlexBg | IncompatEaInode | IncompatCsumSeed | IncompatLargeDir | IncompatInlineData | IncompatEncrypt | IncompatCasefold;

    // s_feature_ro_compat
    private const uint RoCompatSparseSuper = 0x1;

    private Ext4Superblock()
    {
    }

    public long BlocksCount { get; private init; }

    public uint InodesCount { get; private init; }

    public uint FirstDataBlock { get; private init; }

    public int BlockSize { get; private init; }

    public uint BlocksPerGroup { get; private init; }

    public uint InodesPerGroup { get; private init; }

    public int InodeSize { get; private init; }

    public int DescriptorSize { get; private init; }

    public long GroupCount { get; private init; }

    public uint FirstMetaBlockGroup { get; private init; }

    public Guid Uuid { get; private init; }

    public string VolumeName { get; private init; } = "";

    public bool HasFileType => (IncompatFeatures & IncompatFileType) != 0;

    public bool Is64Bit => (IncompatFeatures & Incompat64Bit) != 0;

    public bool HasMetaBg => (IncompatFeatures & IncompatMetaBg) != 0;

    public bool HasLargeDir => (IncompatFeatures & IncompatLargeDir) != 0;

    public bool HasSparseSuper => (RoCompatFeatures & RoCompatSparseSuper) != 0;

    /// <summary>The journal holds changes not yet written to their place: files written just before the crash may be missing here.</summary>
    public bool NeedsRecovery => (IncompatFeatures & IncompatRecover) != 0;

    /// <summary>"ext2", "ext3" or "ext4", by the features Linux's own names go by.</summary>
    public string Kind =>
        (IncompatFeatures & (IncompatExtents | Incompat64Bit | IncompatFlexBg | IncompatInlineData)) != 0 ? "ext4"
        : (CompatFeatures & CompatHasJournal) != 0 ? "ext3"
        : "ext2";

    private uint CompatFeatures { get; init; }

    private uint IncompatFeatures { get; init; }

    private uint RoCompatFeatures { get; init; }

    /// <param name="sb">The 1024 bytes at byte 1024.</param>
    /// <param name="regionLength">The partition's length: the file system must fit in it.</param>
    public static Ext4Superblock Parse(ReadOnlySpan<byte> sb, long regionLength)
    {
        ushort magic = BinaryPrimitives.ReadUInt16LittleEndian(sb[0x38..]);
        if (magic != Magic)
        {
            throw new BootException($"no ext2/3/4 file system (superblock magic 0x{magic:x4}, not 0x{Magic:x4})");
        }

        uint logBlockSize = BinaryPrimitives.ReadUInt32LittleEndian(sb[0x18..]);
        if (logBlockSize > 6)
        {
            throw new BootException($"ext4: superblock: block size 2^{(ulong)logBlockSize + 10} is not 1–64 KiB");
        }

        int blockSize = 1024 << (int)logBlockSize;
        uint incompat = BinaryPrimitives.ReadUInt32LittleEndian(sb[0x60..]);
        if ((incompat & ~Understood) != 0)
        {
            throw new BootException($"ext4: the file system uses features this reader does not understand (incompatible feature bits 0x{incompat & ~Understood:x}{Names(incompat & ~Understood)})");
        }

        bool is64 = (incompat & Incompat64Bit) != 0;
        long blocks = BinaryPrimitives.ReadUInt32LittleEndian(sb[0x04..]);
        if (is64)
        {
            blocks |= (long)BinaryPrimitives.ReadUInt32LittleEndian(sb[0x150..]) << 32;
        }

        uint firstDataBlock = BinaryPrimitives.ReadUInt32LittleEndian(sb[0x14..]);
        uint blocksPerGroup = BinaryPrimitives.ReadUInt32LittleEndian(sb[0x20..]);
        uint inodesPerGroup = BinaryPrimitives.ReadUInt32LittleEndian(sb[0x28..]);
        uint inodesCount = BinaryPrimitives.ReadUInt32LittleEndian(sb[0x00..]);
        if (firstDataBlock > 1 || (firstDataBlock == 1 && blockSize != 1024))
        {
            throw new BootException($"ext4: superblock: first data block {firstDataBlock} is impossible with {blockSize}-byte blocks");
        }

        if (blocks <= firstDataBlock || blocks > regionLength / blockSize)
        {
            throw new BootException(
                $"ext4: superblock: {blocks} blocks of {blockSize} bytes do not fit in the partition ({regionLength / blockSize} blocks)");
        }

        if (blocksPerGroup == 0 || inodesPerGroup == 0 || inodesPerGroup > blockSize * 8L)
        {
            throw new BootException(
                $"ext4: superblock: {blocksPerGroup} blocks and {inodesPerGroup} inodes per group are impossible (each must be 1–{blockSize * 8})");
        }

        long groups = ((blocks - firstDataBlock) + blocksPerGroup - 1) / blocksPerGroup;
        if (groups > uint.MaxValue)
        {
            throw new BootException($"ext4: superblock: {groups} block groups are more than ext4 can have");
        }

        if (inodesCount == 0 || inodesCount > groups * inodesPerGroup)
        {
            throw new BootException(
                $"ext4: superblock: {inodesCount} inodes do not fit in {groups} groups of {inodesPerGroup}");
        }

        uint rev = BinaryPrimitives.ReadUInt32LittleEndian(sb[0x4C..]);
        int inodeSize = rev == 0 ? 128 : BinaryPrimitives.ReadUInt16LittleEndian(sb[0x58..]);
        if (inodeSize < 128 || inodeSize > blockSize || (inodeSize & (inodeSize - 1)) != 0)
        {
            throw new BootException($"ext4: superblock: inode size {inodeSize} is not a power of two from 128 to the block size");
        }

        int descriptorSize = 32;
        if (is64)
        {
            descriptorSize = BinaryPrimitives.ReadUInt16LittleEndian(sb[0xFE..]);
            if (descriptorSize < 64 || descriptorSize > 1024 || (descriptorSize & (descriptorSize - 1)) != 0 || descriptorSize > blockSize)
            {
                throw new BootException($"ext4: superblock: group descriptor size {descriptorSize} is not a power of two from 64 to 1024");
            }
        }

        return new Ext4Superblock
        {
            BlocksCount = blocks,
            InodesCount = inodesCount,
            FirstDataBlock = firstDataBlock,
            BlockSize = blockSize,
            BlocksPerGroup = blocksPerGroup,
            InodesPerGroup = inodesPerGroup,
            InodeSize = inodeSize,
            DescriptorSize = descriptorSize,
            GroupCount = groups,
            FirstMetaBlockGroup = BinaryPrimitives.ReadUInt32LittleEndian(sb[0x104..]),
            Uuid = new Guid(sb.Slice(0x68, 16), bigEndian: true),
            VolumeName = Encoding.UTF8.GetString(sb.Slice(0x78, 16)).TrimEnd('\0'),
            CompatFeatures = BinaryPrimitives.ReadUInt32LittleEndian(sb[0x5C..]),
            IncompatFeatures = incompat,
            RoCompatFeatures = BinaryPrimitives.ReadUInt32LittleEndian(sb[0x64..]),
        };
    }

    private static string Names(uint bits)
    {
        var names = new List<string>();
        if ((bits & IncompatCompression) != 0)
        {
            names.Add("compression");
        }

        if ((bits & IncompatJournalDevice) != 0)
        {
            names.Add("journal_dev: this is an external journal, not a file system");
        }

        if ((bits & IncompatDirData) != 0)
        {
            names.Add("dirdata");
        }

        return names.Count == 0 ? "" : ": " + string.Join(", ", names);
    }
}
