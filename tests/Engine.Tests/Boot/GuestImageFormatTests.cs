using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Platform.Engine.Boot;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Boot;

// What scripts/guest-images.sh produced is what the loaders and the guest need.
public sealed class GuestImageFormatTests
{
    [Fact]
    public void Vmlinuz_is_a_64_bit_bzImage_with_a_modern_boot_protocol()
    {
        byte[] image = File.ReadAllBytes(GuestImages.Path("vmlinuz"));
        Encoding.ASCII.GetString(image, 0x202, 4).Should().Be("HdrS");
        var bz = BzImage.Parse(image);
        bz.Protocol.Should().BeGreaterThanOrEqualTo((ushort)0x020F);
        bz.Supports64BitEntry.Should().BeTrue();
        bz.InitrdAddressMax.Should().BeGreaterThan(0x3000_0000u);
    }

    [Fact]
    public void Vmlinux_is_an_ELF64_with_the_PVH_entry_note()
    {
        byte[] image = File.ReadAllBytes(GuestImages.Path("vmlinux"));
        image[4].Should().Be(2, "ELFCLASS64");
        var elf = ElfKernel.Parse(image);
        string expected = GuestImages.Manifest()["pvh_entry"];
        elf.PvhEntry.Should().Be(Convert.ToUInt32(expected, 16));
        elf.LowestAddress.Should().BeGreaterThanOrEqualTo(0x100000ul, "Linux loads at its physical start, above 1 MiB");
    }

    [Fact]
    public void Initramfs_is_a_gzip_newc_cpio_with_init_busybox_and_the_virtio_modules()
    {
        var names = ReadCpioNames(GuestImages.Path("initramfs.cpio.gz"));
        names.Should().Contain("init").And.Contain("bin/busybox");
        foreach (string module in new[] { "virtio_pci.ko", "virtio_blk.ko", "virtio_net.ko", "virtio-rng.ko", "virtio_input.ko", "ext4.ko" })
        {
            names.Should().Contain(n => n.EndsWith("/" + module, StringComparison.Ordinal), $"{module} must be in the initramfs");
        }
    }

    [Fact]
    public void Root_disk_is_ext4()
    {
        using var disk = File.OpenRead(GuestImages.Path("rootfs.ext4"));
        byte[] superblock = new byte[1024];
        disk.Seek(1024, SeekOrigin.Begin);
        disk.ReadExactly(superblock);
        BinaryPrimitives.ReadUInt16LittleEndian(superblock.AsSpan(0x38)).Should().Be(0xEF53, "the ext2/3/4 superblock magic");
        uint incompat = BinaryPrimitives.ReadUInt32LittleEndian(superblock.AsSpan(0x60));
        (incompat & 0x40).Should().NotBe(0u, "ext4 uses extents (INCOMPAT_EXTENTS)");
    }

    /// <summary>Walks a newc archive ("070701" headers, 4-byte alignment) written from the format, not a library.</summary>
    private static List<string> ReadCpioNames(string path)
    {
        using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var buffer = new MemoryStream();
        gzip.CopyTo(buffer);
        byte[] data = buffer.ToArray();
        var names = new List<string>();
        int offset = 0;
        while (offset + 110 <= data.Length)
        {
            string magic = Encoding.ASCII.GetString(data, offset, 6);
            magic.Should().Be("070701", $"a newc header at offset {offset}");
            int Field(int index) => Convert.ToInt32(Encoding.ASCII.GetString(data, offset + 6 + index * 8, 8), 16);
            int fileSize = Field(6), nameSize = Field(11);
            string name = Encoding.ASCII.GetString(data, offset + 110, nameSize - 1);
            if (name == "TRAILER!!!")
            {
                break;
            }

            names.Add(name.TrimStart('.', '/'));
            offset = Align4(Align4(offset + 110 + nameSize) + fileSize);
        }

        return names;
    }

    private static int Align4(int value) => (value + 3) & ~3;
}
