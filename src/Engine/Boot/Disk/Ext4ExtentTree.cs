using System.Buffers.Binary;

namespace Platform.Engine.Boot.Disk;

/// <summary>
/// Maps a file's blocks through its extent tree (ext4's "extents" feature): a 12-byte header (magic 0xF30A, entries,
/// capacity, depth) then 12-byte index or leaf entries, the root in the inode's i_block. Depth is at most 5 and falls
/// by one at each level; entries never exceed the node's capacity; every block number lies inside the file system;
/// and the nodes read are bounded by the blocks asked for, so a tree that loops or fans out cannot hang the reader.
/// </summary>
internal static class Ext4ExtentTree
{
    public const int MaxDepth = 5;
    private const ushort HeaderMagic = 0xF30A;
    private const int EntrySize = 12;
    private const int UninitializedLength = 32768;

    /// <summary>The runs holding the file's blocks below <paramref name="blockLimit"/>, in tree order.</summary>
    public static List<BlockRun> Map(Ext4FileSystem fs, Ext4Inode inode, long blockLimit)
    {
        var runs = new List<BlockRun>();
        // A well-formed tree has fewer nodes than the blocks it maps (each leaf maps at least one), plus the path down.
        long budget = blockLimit + MaxDepth + 1;
        Walk(fs, inode, inode.BlockArray, expectedDepth: -1, nodeBlock: -1, blockLimit, runs, ref budget);
        return runs;
    }

    private static void Walk(Ext4FileSystem fs, Ext4Inode inode, ReadOnlySpan<byte> node, int expectedDepth, long nodeBlock, long blockLimit,
        List<BlockRun> runs, ref long budget)
    {
        string where = nodeBlock < 0 ? "root" : $"node at block {nodeBlock}";
        ushort magic = BinaryPrimitives.ReadUInt16LittleEndian(node);
        ushort entries = BinaryPrimitives.ReadUInt16LittleEndian(node[2..]);
        ushort max = BinaryPrimitives.ReadUInt16LittleEndian(node[4..]);
        ushort depth = BinaryPrimitives.ReadUInt16LittleEndian(node[6..]);
        if (magic != HeaderMagic)
        {
            throw new BootException($"ext4: inode {inode.Number} extent {where}: header magic 0x{magic:x4}, not 0x{HeaderMagic:x4}");
        }

        if (expectedDepth < 0 && depth > MaxDepth)
        {
            throw new BootException($"ext4: inode {inode.Number} extent tree deeper than {MaxDepth} (depth {depth})");
        }

        if (expectedDepth >= 0 && depth != expectedDepth)
        {
            throw new BootException($"ext4: inode {inode.Number} extent {where}: depth {depth} where {expectedDepth} belongs");
        }

        int capacity = (node.Length - EntrySize) / EntrySize;
        if (max > capacity || entries > max)
        {
            throw new BootException($"ext4: inode {inode.Number} extent {where}: {entries} entries of {max} do not fit ({capacity} at most)");
        }

        for (int i = 0; i < entries; i++)
        {
            var entry = node.Slice(EntrySize * (i + 1), EntrySize);
            long logical = BinaryPrimitives.ReadUInt32LittleEndian(entry);
            if (depth == 0)
            {
                int length = BinaryPrimitives.ReadUInt16LittleEndian(entry[4..]);
                long start = ((long)BinaryPrimitives.ReadUInt16LittleEndian(entry[6..]) << 32) | BinaryPrimitives.ReadUInt32LittleEndian(entry[8..]);
                bool zero = length > UninitializedLength;
                if (zero)
                {
                    length -= UninitializedLength;
                }

                if (length == 0)
                {
                    throw new BootException($"ext4: inode {inode.Number} extent {where}: entry {i} has length 0");
                }

                if (logical >= blockLimit)
                {
                    continue;
                }

                long count = Math.Min(length, blockLimit - logical);
                if (start < fs.Superblock.FirstDataBlock || start > fs.Superblock.BlocksCount - count)
                {
                    throw new BootException(
                        $"ext4: inode {inode.Number} extent {where}: blocks {start}–{start + count - 1} lie outside the file system ({fs.Superblock.BlocksCount} blocks)");
                }

                runs.Add(new BlockRun(logical, start, count, zero));
                continue;
            }

            if (logical >= blockLimit)
            {
                // Index entries are sorted by the first block they cover: the rest lie past the file's end too.
                break;
            }

            long child = ((long)BinaryPrimitives.ReadUInt16LittleEndian(entry[8..]) << 32) | BinaryPrimitives.ReadUInt32LittleEndian(entry[4..]);
            if (child < fs.Superblock.FirstDataBlock || child >= fs.Superblock.BlocksCount)
            {
                throw new BootException(
                    $"ext4: inode {inode.Number} extent {where}: entry {i} points at block {child}, outside the file system ({fs.Superblock.BlocksCount} blocks)");
            }

            if (--budget < 0)
            {
                throw new BootException($"ext4: inode {inode.Number} extent tree has more nodes than its file has blocks (a loop?)");
            }

            byte[] block = new byte[fs.Superblock.BlockSize];
            fs.ReadBlock(child, block, $"inode {inode.Number} extent node");
            Walk(fs, inode, block, depth - 1, child, blockLimit, runs, ref budget);
        }
    }
}
