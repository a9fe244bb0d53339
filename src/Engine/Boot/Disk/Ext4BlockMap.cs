using System.Buffers.Binary;

namespace Platform.Engine.Boot.Disk;

/// <summary>
/// Maps a file's blocks through the ext2/ext3 block map: 12 direct pointers in i_block, then one single, one double
/// and one triple indirect block of 32-bit pointers. A zero pointer is a hole. Only the blocks asked for are walked,
/// so the indirect blocks read are bounded by the file's length; every pointer is checked against the block count.
/// </summary>
internal static class Ext4BlockMap
{
    private const int DirectPointers = 12;

    /// <summary>The runs holding the file's blocks below <paramref name="blockLimit"/>, contiguous ones merged.</summary>
    public static List<BlockRun> Map(Ext4FileSystem fs, Ext4Inode inode, long blockLimit)
    {
        var runs = new List<BlockRun>();
        var pointers = inode.BlockArray;
        for (int i = 0; i < DirectPointers && i < blockLimit; i++)
        {
            Add(fs, inode, runs, i, BinaryPrimitives.ReadUInt32LittleEndian(pointers[(i * 4)..]));
        }

        long perBlock = fs.Superblock.BlockSize / 4;
        long logical = DirectPointers;
        long span = perBlock;
        for (int level = 1; level <= 3 && logical < blockLimit; level++)
        {
            uint pointer = BinaryPrimitives.ReadUInt32LittleEndian(pointers[((DirectPointers + level - 1) * 4)..]);
            if (pointer != 0)
            {
                Indirect(fs, inode, runs, pointer, level, logical, blockLimit);
            }

            logical += span;
            span *= perBlock;
        }

        return runs;
    }

    private static void Indirect(Ext4FileSystem fs, Ext4Inode inode, List<BlockRun> runs, uint block, int level, long firstLogical, long blockLimit)
    {
        Check(fs, inode, block);
        byte[] data = new byte[fs.Superblock.BlockSize];
        fs.ReadBlock(block, data, $"inode {inode.Number} indirect block");
        long perBlock = data.Length / 4;
        long childSpan = 1;
        for (int i = 1; i < level; i++)
        {
            childSpan *= perBlock;
        }

        for (int i = 0; i < perBlock; i++)
        {
            long logical = firstLogical + (i * childSpan);
            if (logical >= blockLimit)
            {
                return;
            }

            uint pointer = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(i * 4));
            if (pointer == 0)
            {
                continue;
            }

            if (level == 1)
            {
                Add(fs, inode, runs, logical, pointer);
            }
            else
            {
                Indirect(fs, inode, runs, pointer, level - 1, logical, blockLimit);
            }
        }
    }

    private static void Add(Ext4FileSystem fs, Ext4Inode inode, List<BlockRun> runs, long logical, uint physical)
    {
        if (physical == 0)
        {
            return;
        }

        Check(fs, inode, physical);
        if (runs.Count > 0 && runs[^1] is var last && last.Logical + last.Count == logical && last.Physical + last.Count == physical)
        {
            runs[^1] = last with { Count = last.Count + 1 };
            return;
        }

        runs.Add(new BlockRun(logical, physical, 1, Zero: false));
    }

    private static void Check(Ext4FileSystem fs, Ext4Inode inode, uint block)
    {
        if (block < fs.Superblock.FirstDataBlock || block >= fs.Superblock.BlocksCount)
        {
            throw new BootException(
                $"ext4: inode {inode.Number} block map points at block {block}, outside the file system ({fs.Superblock.BlocksCount} blocks)");
        }
    }
}
