using System.Text;
using Platform.Engine.Boot.Disk;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Boot.Disk;

// Real file systems from Debian's mke2fs in each layout the reader must handle, read back byte for byte.
public sealed class Ext4FileSystemTests : IDisposable
{
    private static readonly Guid FsUuid = new("6a1f0e3c-52a7-4e2b-9d1c-0b8e5f4a3c21");
    private readonly GuestTree _tree = new();
    private readonly byte[] _kernel = Pattern(300 * 1024 + 17, seed: 1);
    private readonly byte[] _sparse;
    private readonly Owned _owned = new();

    public Ext4FileSystemTests()
    {
        // 2 MiB with a 4 KiB chunk of data every 64 KiB: 32 extents, more than the 4 an inode holds, so the extent
        // tree needs an index level; the gaps are holes.
        _sparse = new byte[2 << 20];
        for (int i = 0; i < 32; i++)
        {
            Pattern(4096, seed: 100 + i).CopyTo(_sparse, i * 65536);
        }

        // Data in the last byte: mke2fs 1.47 -d with inline_data cuts a file that ends in a hole short.
        _sparse[^1] = 0x5A;

        _tree.File("/boot/vmlinuz-6.1.0-13-amd64", _kernel)
            .File("/boot/initrd.img-6.1.0-13-amd64", _sparse)
            .File("/boot/grub/grub.cfg", "set default=0\n")
            .File("/boot/empty", [])
            .Symlink("/vmlinuz", "boot/vmlinuz-6.1.0-13-amd64")
            .Symlink("/initrd.img", "/boot/initrd.img-6.1.0-13-amd64")
            .Symlink("/boot/long", "../boot/./././././././././././././././././././././././././././././vmlinuz-6.1.0-13-amd64")
            .Symlink("/boot/dir-link", "grub")
            .Folder("/srv/empty");
        for (int i = 0; i < 300; i++)
        {
            _tree.File($"/etc/a-file-with-a-longer-name-number-{i:D4}.conf", $"line {i}\n");
        }
    }

    public void Dispose()
    {
        _owned.Dispose();

        _tree.Dispose();
    }

    public static TheoryData<string, string[]> Layouts => new()
    {
        { "ext4, 64-bit, 4 KiB blocks", ["-b", "4096"] },
        { "ext4, 32-bit descriptors", ["-O", "^64bit"] },
        { "ext4 with block maps", ["-O", "^extent,^64bit", "-b", "4096"] },
        { "ext4, 1 KiB blocks", ["-b", "1024"] },
        { "ext4, 2 KiB blocks", ["-b", "2048"] },
        { "ext4, 64 KiB blocks", ["-b", "65536"] },
        { "ext4, meta_bg", ["-O", "meta_bg,^resize_inode", "-b", "1024", "-g", "1024", "-N", "512"] },
        { "ext4, inline_data", ["-O", "inline_data"] },
        { "ext3", ["-t", "ext3"] },
        { "ext2, 1 KiB blocks", ["-t", "ext2", "-b", "1024"] },
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Files_symlinks_and_directories_read_back_as_written(string layout, string[] options)
    {
        var fs = Format(options);

        fs.ReadFile("/boot/vmlinuz-6.1.0-13-amd64", 1 << 30, "test").Should().Equal(_kernel, layout);
        fs.ReadFile("/boot/initrd.img-6.1.0-13-amd64", 1 << 30, "test").Should().Equal(_sparse, "holes read as zeros ({0})", layout);
        fs.ReadFile("/vmlinuz", 1 << 30, "test").Should().Equal(_kernel, "a relative fast symlink is followed");
        fs.ReadFile("/boot/long", 1 << 30, "test").Should().Equal(_kernel, "a target over 60 bytes is a slow symlink, read from its block");
        Encoding.UTF8.GetString(fs.ReadFile("/boot/dir-link/grub.cfg", 4096, "test")!).Should().Be("set default=0\n");
        fs.ReadFile("/boot/empty", 4096, "test").Should().BeEmpty();
        fs.ResolveFile("/initrd.img").Should().Be("/boot/initrd.img-6.1.0-13-amd64");
        fs.ResolveFile("/boot/long").Should().Be("/boot/vmlinuz-6.1.0-13-amd64");
        fs.ResolveFile("/boot/../vmlinuz").Should().Be("/boot/vmlinuz-6.1.0-13-amd64");
        fs.ListDirectory("/boot").Should().BeEquivalentTo(
            "vmlinuz-6.1.0-13-amd64", "initrd.img-6.1.0-13-amd64", "grub", "empty", "long", "dir-link");
        fs.ListDirectory("/etc").Should().HaveCount(300, "a directory over several blocks is read whole");
        Encoding.UTF8.GetString(fs.ReadFile("/etc/a-file-with-a-longer-name-number-0299.conf", 4096, "test")!).Should().Be("line 299\n");
        fs.ListDirectory("/srv/empty").Should().BeEmpty();
        fs.Uuid.Should().Be(FsUuid);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Missing_paths_are_null_not_errors(string layout, string[] options)
    {
        var fs = Format(options);

        fs.ReadFile("/boot/vmlinuz", 1 << 20, "test").Should().BeNull(layout);
        fs.ReadFile("/boot/vmlinuz-6.1.0-13-amd64/inside", 1 << 20, "test").Should().BeNull("a file is no directory");
        fs.ReadFile("/boot/grub", 1 << 20, "test").Should().BeNull("a directory is no file");
        fs.ResolveFile("/nowhere/vmlinuz").Should().BeNull();
        fs.ListDirectory("/vmlinuz").Should().BeNull();
    }

    [Theory]
    [InlineData("ext2", new[] { "-t", "ext2", "-b", "1024" })]
    [InlineData("ext4", new[] { "-b", "4096" })]
    public void Kind_is_named_by_its_features(string kind, string[] options) => Format(options).Kind.Should().Be(kind);

    [Fact]
    public void A_fragmented_file_has_an_extent_tree_with_an_index_level()
    {
        var fs = Format(["-b", "4096"]);
        var inode = fs.Resolve("/boot/initrd.img-6.1.0-13-amd64")!.Value.Inode;

        inode.UsesExtents.Should().BeTrue();
        BitConverter.ToUInt16(inode.BlockArray[6..8]).Should().BeGreaterThan(0, "32 extents need index nodes below the inode's root");
    }

    [Fact]
    public void Inline_data_files_and_directories_are_read_from_the_inode()
    {
        string text = "title Debian\nlinux /vmlinuz-6.1.0-13-amd64\noptions root=/dev/vda2 ro console=ttyS0\n"; // over i_block's 60 bytes
        _tree.File("/loader/entries/debian.conf", text);
        var fs = Format(["-O", "inline_data"]);

        var file = fs.Resolve("/loader/entries/debian.conf")!.Value.Inode;
        var directory = fs.Resolve("/loader/entries")!.Value.Inode;

        file.HasInlineData.Should().BeTrue("mke2fs keeps a small file in its inode (i_block, then system.data)");
        directory.HasInlineData.Should().BeTrue("a directory with one entry fits its inode too");
        Encoding.UTF8.GetString(fs.ReadFile("/loader/entries/debian.conf", 4096, "test")!).Should().Be(text);
        fs.ListDirectory("/loader/entries").Should().Equal("debian.conf");
        fs.ResolveFile("/loader/entries/../entries/debian.conf").Should().Be("/loader/entries/debian.conf");
    }

    [Fact]
    public void Block_maps_reach_the_triple_indirect_block()
    {
        // 1 KiB blocks: 12 direct + 256 single + 65536 double indirect blocks end near 64.3 MiB; data at 70 MiB needs
        // the triple indirect block. The file is sparse, so the image stays small.
        byte[] head = Pattern(3000, seed: 7), tail = Pattern(5000, seed: 8);
        string file = Path.Combine(_tree.Root, "sparse");
        using (var stream = File.Create(file))
        {
            stream.Seek(100, SeekOrigin.Begin);
            stream.Write(head);
            stream.Seek(70L << 20, SeekOrigin.Begin);
            stream.Write(tail);
        }

        var fs = Format(["-t", "ext2", "-b", "1024"]);
        byte[] read = fs.ReadFile("/sparse", 1 << 30, "test")!;

        read.Length.Should().Be((70 << 20) + 5000);
        read.AsSpan(100, 3000).ToArray().Should().Equal(head);
        read.AsSpan(70 << 20).ToArray().Should().Equal(tail);
        read.AsSpan(3100, 1000).ToArray().Should().OnlyContain(b => b == 0, "the hole reads as zeros");
    }

    [Fact]
    public void Hashed_directories_are_read_linearly()
    {
        var disk = new BootDisk(64L << 20);
        _owned.Add(disk);
        disk.FormatWholeDisk(_tree.Root, "-b", "1024", "-U", FsUuid.ToString());
        disk.OptimizeDirectories();
        var fs = OpenWholeDisk(disk);

        (fs.Resolve("/etc")!.Value.Inode.Flags & 0x1000u).Should().Be(0x1000u, "e2fsck -D indexes a large directory (htree)");
        fs.ListDirectory("/etc").Should().HaveCount(300);
        Encoding.UTF8.GetString(fs.ReadFile("/etc/a-file-with-a-longer-name-number-0150.conf", 4096, "test")!).Should().Be("line 150\n");
    }

    [Fact]
    public void A_file_over_the_limit_is_refused_before_it_is_read()
    {
        var fs = Format(["-b", "4096"]);

        var act = () => fs.ReadFile("/vmlinuz", 4096, "the VM's memory");

        act.Should().Throw<Platform.Engine.Boot.BootException>().WithMessage("ext4: /vmlinuz is 300 KiB, more than the VM's memory (4 KiB)");
    }

    private Ext4FileSystem Format(string[] options)
    {
        var disk = new BootDisk(96L << 20);
        _owned.Add(disk);
        var part = new BootDisk.Part(BootDisk.FirstPartitionSector, (80L << 20) / 512);
        disk.WriteMbr(part);
        disk.Format(part, _tree.Root, [.. options, "-U", FsUuid.ToString()]);
        var reader = DiskReader.Open(disk.Path, "disk 0");
        _owned.Add(reader);
        return Ext4FileSystem.Open(new DiskRegion(reader, part.Offset, part.Bytes, "disk 0 partition 1"));
    }

    private Ext4FileSystem OpenWholeDisk(BootDisk disk)
    {
        var reader = DiskReader.Open(disk.Path, "disk 0");
        _owned.Add(reader);
        return Ext4FileSystem.Open(new DiskRegion(reader, 0, reader.Length, "disk 0"));
    }

    internal static byte[] Pattern(int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}
