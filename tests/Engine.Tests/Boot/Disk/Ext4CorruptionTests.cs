using System.Buffers.Binary;
using Platform.Engine.Boot;
using Platform.Engine.Boot.Disk;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Boot.Disk;

// A hostile or damaged image: each field the reader follows, broken on purpose, ends in a BootException that says
// what is wrong, never a crash, a hang or a huge allocation.
public sealed class Ext4CorruptionTests : IDisposable
{
    private const int BlockSize = 4096;
    private readonly GuestTree _tree = new();
    private readonly BootDisk _disk = new(48L << 20);
    private readonly BootDisk.Part _part = new(BootDisk.FirstPartitionSector, (40L << 20) / 512);
    private readonly Owned _owned = new();

    public Ext4CorruptionTests()
    {
        // 32 extents in the initrd (an index level), a symlink loop, and /boot with entries to break.
        byte[] fragmented = new byte[2 << 20];
        for (int i = 0; i < 32; i++)
        {
            fragmented[(i * 65536) + 1] = (byte)(i + 1);
        }

        fragmented[^1] = 1;
        _tree.File("/boot/vmlinuz-6.1", Ext4FileSystemTests.Pattern(50_000, 3))
            .File("/boot/initrd.img-6.1", fragmented)
            .Symlink("/vmlinuz", "boot/vmlinuz-6.1")
            .Symlink("/loop-a", "loop-b")
            .Symlink("/loop-b", "/loop-a");
        _disk.WriteMbr(_part);
        _disk.Format(_part, _tree.Root, "-b", $"{BlockSize}");
    }

    public void Dispose()
    {
        _owned.Dispose();

        _tree.Dispose();
        _disk.Dispose();
    }

    private long Superblock => _part.Offset + 1024;

    private Ext4FileSystem Open()
    {
        var reader = DiskReader.Open(_disk.Path, "disk 0");
        _owned.Add(reader);
        return Ext4FileSystem.Open(new DiskRegion(reader, _part.Offset, _part.Bytes, "disk 0 partition 1"));
    }

    private void Write32(long offset, uint value)
    {
        byte[] bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        _disk.WriteAt(offset, bytes);
    }

    private void Write16(long offset, ushort value)
    {
        byte[] bytes = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, value);
        _disk.WriteAt(offset, bytes);
    }

    private long Inode(string path) => _disk.InodeOffset(_part.Offset, path, BlockSize);

    [Fact]
    public void Wrong_superblock_magic()
    {
        Write16(Superblock + 0x38, 0x1234);

        FluentActions.Invoking(Open).Should().Throw<BootException>().WithMessage("no ext2/3/4 file system (superblock magic 0x1234, not 0xef53)");
    }

    [Theory]
    [InlineData(0x00, 0xFFFF_FFFFu, "ext4: superblock: 4294967295 inodes do not fit in * groups of *")]
    [InlineData(0x00, 0u, "ext4: superblock: 0 inodes do not fit*")]
    [InlineData(0x28, 0u, "ext4: superblock: * blocks and 0 inodes per group are impossible*")]
    [InlineData(0x28, 0x1000_0000u, "ext4: superblock: * blocks and 268435456 inodes per group are impossible*")]
    [InlineData(0x20, 0u, "ext4: superblock: 0 blocks and * inodes per group are impossible*")]
    [InlineData(0x18, 30u, "ext4: superblock: block size 2^40 is not 1–64 KiB")]
    [InlineData(0x04, 0xFFFF_FFF0u, "ext4: superblock: * blocks of 4096 bytes do not fit in the partition (10240 blocks)")]
    [InlineData(0x14, 7u, "ext4: superblock: first data block 7 is impossible*")]
    [InlineData(0x58, 100u, "ext4: superblock: inode size 100 is not a power of two*")]
    public void Impossible_superblock_fields(int offset, uint value, string message)
    {
        if (offset == 0x58)
        {
            Write16(Superblock + offset, (ushort)value);
        }
        else
        {
            Write32(Superblock + offset, value);
        }

        FluentActions.Invoking(Open).Should().Throw<BootException>().WithMessage(message);
    }

    [Fact]
    public void Unknown_incompatible_feature()
    {
        uint incompat = BinaryPrimitives.ReadUInt32LittleEndian(_disk.ReadAt(Superblock + 0x60, 4));
        Write32(Superblock + 0x60, incompat | 0x1 | 0x8000_0000);

        FluentActions.Invoking(Open).Should().Throw<BootException>()
            .WithMessage("ext4: the file system uses features this reader does not understand (incompatible feature bits 0x80000001: compression)");
    }

    [Fact]
    public void Extent_header_magic()
    {
        var (inode, fs) = (Inode("/boot/vmlinuz-6.1"), Open());
        Write16(inode + 0x28, 0xBEEF);

        FluentActions.Invoking(() => fs.ReadFile("/vmlinuz", 1 << 30, "test")).Should().Throw<BootException>()
            .WithMessage("ext4: inode * extent root: header magic 0xbeef, not 0xf30a");
    }

    [Fact]
    public void Extent_tree_deeper_than_five()
    {
        var (inode, fs) = (Inode("/boot/vmlinuz-6.1"), Open());
        Write16(inode + 0x28 + 6, 6);

        FluentActions.Invoking(() => fs.ReadFile("/vmlinuz", 1 << 30, "test")).Should().Throw<BootException>()
            .WithMessage("ext4: inode * extent tree deeper than 5 (depth 6)");
    }

    [Fact]
    public void Extent_node_whose_depth_does_not_fall_by_one()
    {
        long inode = Inode("/boot/initrd.img-6.1");
        var fs = Open();
        BinaryPrimitives.ReadUInt16LittleEndian(_disk.ReadAt(inode + 0x28 + 6, 2)).Should().Be(1, "the fragmented file has an index level");
        Write16(inode + 0x28 + 6, 2); // the root claims depth 2; its child (a leaf) says 0

        FluentActions.Invoking(() => fs.ReadFile("/boot/initrd.img-6.1", 1 << 30, "test")).Should().Throw<BootException>()
            .WithMessage("ext4: inode * extent node at block *: depth 0 where 1 belongs");
    }

    [Fact]
    public void Extent_entries_beyond_the_node_capacity()
    {
        var (inode, fs) = (Inode("/boot/vmlinuz-6.1"), Open());
        Write16(inode + 0x28 + 2, 200); // entries
        Write16(inode + 0x28 + 4, 200); // max

        FluentActions.Invoking(() => fs.ReadFile("/vmlinuz", 1 << 30, "test")).Should().Throw<BootException>()
            .WithMessage("ext4: inode * extent root: 200 entries of 200 do not fit (4 at most)");
    }

    [Fact]
    public void Extent_pointing_outside_the_file_system()
    {
        var (inode, fs) = (Inode("/boot/vmlinuz-6.1"), Open());
        Write32(inode + 0x28 + 12 + 8, 0x7FFF_0000); // the first leaf's start block

        FluentActions.Invoking(() => fs.ReadFile("/vmlinuz", 1 << 30, "test")).Should().Throw<BootException>()
            .WithMessage("ext4: inode * extent root: blocks 2147418112–* lie outside the file system (10240 blocks)");
    }

    [Fact]
    public void Directory_record_length_of_zero()
    {
        long block = _disk.BlockOf(_part.Offset, "/boot", 0);
        var fs = Open();
        Write16(_part.Offset + (block * BlockSize) + 4, 0); // "."'s rec_len

        FluentActions.Invoking(() => fs.ReadFile("/boot/vmlinuz-6.1", 1 << 30, "test")).Should().Throw<BootException>()
            .WithMessage("ext4: directory inode *, block 0: the entry at offset 0 has record length 0 (it must be 8 or more, a multiple of 4, and end inside the block)");
    }

    [Fact]
    public void Directory_record_running_past_its_block()
    {
        long block = _disk.BlockOf(_part.Offset, "/boot", 0);
        var fs = Open();
        Write16(_part.Offset + (block * BlockSize) + 12 + 4, 8192); // ".."'s rec_len

        FluentActions.Invoking(() => fs.ListDirectory("/boot")).Should().Throw<BootException>()
            .WithMessage("*the entry at offset 12 has record length 8192*");
    }

    [Fact]
    public void Directory_entry_naming_an_inode_that_does_not_exist()
    {
        long block = _disk.BlockOf(_part.Offset, "/boot", 0);
        var fs = Open();
        // Every entry in /boot's block names a huge inode: whichever the lookup reaches first is refused.
        byte[] data = _disk.ReadAt(_part.Offset + (block * BlockSize), BlockSize);
        for (int offset = 0; offset < BlockSize;)
        {
            int length = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(offset + 4));
            if (BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(offset)) != 0)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(offset), 0xFFFF_FF00);
            }

            offset += length;
        }

        _disk.WriteAt(_part.Offset + (block * BlockSize), data);

        FluentActions.Invoking(() => fs.ReadFile("/boot/vmlinuz-6.1", 1 << 30, "test")).Should().Throw<BootException>()
            .WithMessage("ext4: inode 4294967040 does not exist (the file system has *)");
    }

    [Fact]
    public void Symlink_loop()
    {
        var fs = Open();

        FluentActions.Invoking(() => fs.ReadFile("/loop-a", 1 << 30, "test")).Should().Throw<BootException>()
            .WithMessage("ext4: too many symbolic links resolving /loop-a (more than 8; a loop?)");
    }

    [Fact]
    public void File_size_of_four_gibibytes_is_refused_without_allocating()
    {
        var (inode, fs) = (Inode("/boot/vmlinuz-6.1"), Open());
        Write32(inode + 0x6C, 1); // i_size_high: 4 GiB + 50 000 bytes

        FluentActions.Invoking(() => fs.ReadFile("/vmlinuz", 512L << 20, "the VM's memory")).Should().Throw<BootException>()
            .WithMessage("ext4: /vmlinuz is 4 GiB, more than the VM's memory (512 MiB)");
    }

    [Fact]
    public void Inode_table_outside_the_file_system()
    {
        // Group 0's descriptor is in the block after the superblock's (block 1 with 4 KiB blocks); bg_inode_table at 0x08.
        Write32(_part.Offset + BlockSize + 0x08, 0x00FF_FFFF);
        var fs = Open();

        FluentActions.Invoking(() => fs.ListDirectory("/")).Should().Throw<BootException>()
            .WithMessage("ext4: group 0's inode table at block 16777215 lies outside the file system (10240 blocks)");
    }

    [Fact]
    public void Truncated_image()
    {
        using var truncated = new BootDisk(0);
        File.Copy(_disk.Path, truncated.Path, overwrite: true);
        using (var file = File.OpenWrite(truncated.Path))
        {
            file.SetLength(_part.Offset + (3L << 20));
        }

        using var reader = DiskReader.Open(truncated.Path, "disk 0");

        var act = () => Ext4FileSystem.Open(new DiskRegion(reader, _part.Offset, _part.Bytes, "disk 0 partition 1"));

        act.Should().Throw<BootException>().WithMessage("disk 0 partition 1: bytes * lie outside the disk image (4194304 bytes).");
    }

    [Fact]
    public void Random_damage_to_the_metadata_ends_in_a_result_or_a_boot_exception()
    {
        // The structures a boot lookup follows: superblock, group 0's descriptor, the inodes of /, /boot, the kernel,
        // the initrd and the links, the two directories' first blocks and the initrd's extent index node. Each round
        // flips a few bytes among them and reads everything; only a result or a BootException may come out.
        long initrd = Inode("/boot/initrd.img-6.1");
        long indexNode = BinaryPrimitives.ReadUInt32LittleEndian(_disk.ReadAt(initrd + 0x28 + 12 + 4, 4));
        (long Offset, int Length)[] targets =
        [
            (Superblock, 1024),
            (_part.Offset + BlockSize, 64),
            (Inode("/"), 256),
            (Inode("/boot"), 256),
            (Inode("/boot/vmlinuz-6.1"), 256),
            (initrd, 256),
            (Inode("/vmlinuz"), 256),
            (Inode("/loop-a"), 256),
            (_part.Offset + (_disk.BlockOf(_part.Offset, "/", 0) * BlockSize), BlockSize),
            (_part.Offset + (_disk.BlockOf(_part.Offset, "/boot", 0) * BlockSize), BlockSize),
            (_part.Offset + (indexNode * BlockSize), 64),
        ];
        var pristine = targets.Select(t => _disk.ReadAt(t.Offset, t.Length)).ToArray();
        var random = new Random(20261126);
        var messages = new HashSet<string>();
        int failures = 0;
        for (int round = 0; round < 400; round++)
        {
            for (int t = 0; t < targets.Length; t++)
            {
                _disk.WriteAt(targets[t].Offset, pristine[t]);
            }

            for (int flips = random.Next(1, 6); flips > 0; flips--)
            {
                var (offset, length) = targets[random.Next(targets.Length)];
                long at = offset + random.Next(length);
                _disk.WriteAt(at, [(byte)(_disk.ReadAt(at, 1)[0] ^ random.Next(1, 256))]);
            }

            try
            {
                var fs = Open();
                fs.ListDirectory("/");
                fs.ListDirectory("/boot");
                fs.ReadFile("/vmlinuz", 64L << 20, "test");
                fs.ReadFile("/boot/initrd.img-6.1", 64L << 20, "test");
                fs.ResolveFile("/loop-a");
            }
            catch (BootException ex)
            {
                failures++;
                messages.Add(ex.Message);
            }
        }

        failures.Should().BeGreaterThan(40, "many rounds hit a field the reader checks");
        messages.Should().OnlyContain(m => m.Length > 0);
    }
}
