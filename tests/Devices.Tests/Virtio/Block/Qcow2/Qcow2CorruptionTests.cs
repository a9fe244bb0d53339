using System.Buffers.Binary;
using Platform.Devices.Virtio.Block;
using Platform.Devices.Virtio.Block.Qcow2;

namespace Platform.Devices.Tests.Virtio.Block.Qcow2;

// Hostile and damaged images: refused at open with a message naming what is wrong, or, for damage found in an L2
// table while running, the request fails (IOERR for the guest) and is counted. Never a crash, hang or huge allocation.
public sealed class Qcow2CorruptionTests : IDisposable
{
    private readonly ImageFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A v3 image, 64 KiB clusters, header at 0, refcount table at 0x10000, block at 0x20000, L1 at 0x30000, data written at 0 and 1 MiB.</summary>
    private string Sample(string name = "s.qcow2", string options = "")
    {
        string image = _dir[name];
        QemuImg.Create(image, "4M", options);
        QemuImg.Io(image, "qcow2", "write -P 0x42 0 64k", "write -P 0x43 1M 4k");
        return image;
    }

    [Theory]
    [InlineData(4, 4u, "version 4")]
    [InlineData(20, 22u, "cluster_bits is 22")]
    [InlineData(20, 8u, "cluster_bits is 8")]
    [InlineData(96, 7u, "refcount_order is 7")]
    [InlineData(100, 100u, "header_length is 100")]
    [InlineData(36, 0u, "L1 table has 0 entries")]
    [InlineData(36, 0x40000000u, "more than")]
    [InlineData(56, 0u, "refcount table has no clusters")]
    [InlineData(56, 0x10000u, "refcount table has 65536 clusters")]
    [InlineData(60, 0x7FFFFFFFu, "snapshots")]
    [InlineData(32, 1u, "encrypted")]
    public void A_bad_32_bit_header_field_is_refused_at_open(int offset, uint value, string message)
    {
        string image = Sample();
        Patch32(image, offset, value);
        AssertRefused(image, message);
    }

    [Theory]
    [InlineData(24, 1UL << 62, "virtual size")]
    [InlineData(40, 0x7FFF0000UL, "L1 table at 0x7fff0000")] // past the end of the file
    [InlineData(40, 0x30200UL, "not aligned")]
    [InlineData(40, 0x10000UL, "overlap")] // the L1 table on the refcount table
    [InlineData(48, 0x30000UL, "overlap")] // the refcount table on the L1 table
    [InlineData(48, 0UL, "overlaps the header")]
    [InlineData(72, 1UL << 5, "bit 5")] // an unknown incompatible feature
    [InlineData(72, 1UL << 0, "dirty")]
    [InlineData(72, 1UL << 1, "corrupt")]
    public void A_bad_64_bit_header_field_is_refused_at_open(int offset, ulong value, string message)
    {
        string image = Sample();
        Patch64(image, offset, value);
        AssertRefused(image, message);
    }

    [Fact]
    public void A_dirty_or_corrupt_marked_image_still_opens_read_only()
    {
        string image = Sample();
        Patch64(image, 72, 0b11);
        using var disk = (Qcow2BlockBackend)DiskImages.Open(new DiskOptions(image, ReadOnly: true, Format: DiskImageFormat.Qcow2));
        byte[] data = new byte[512];
        disk.Read(0, data).Should().BeTrue();
        data.Should().OnlyContain(b => b == 0x42);
    }

    [Fact]
    public void Unknown_compatible_features_are_ignored_and_unknown_autoclear_bits_cleared_when_writing()
    {
        string image = Sample();
        Patch64(image, 80, 1UL << 9);
        Patch64(image, 88, (1UL << 7) | 1);
        using (var disk = Qcow2BlockBackendReadTests.Open(image, readOnly: true))
        {
            disk.Version.Should().Be(3);
        }

        Read64(image, 88).Should().Be((1UL << 7) | 1, "a read-only open writes nothing");
        using (var disk = Qcow2BlockBackendReadTests.Open(image))
        {
            disk.Write(0, new byte[512]).Should().BeTrue();
        }

        Read64(image, 88).Should().Be(0, "autoclear bits we do not maintain are cleared before we write");
        Read64(image, 80).Should().Be(1UL << 9, "compatible bits stay");
    }

    [Fact]
    public void A_bitmap_made_by_qemu_is_marked_inconsistent_by_our_first_write()
    {
        string image = Sample();
        QemuImg.Img("bitmap", "--add", image, "b0");
        Read64(image, 88).Should().Be(1, "QEMU set the bitmaps autoclear bit");
        using (var disk = Qcow2BlockBackendReadTests.Open(image))
        {
            disk.Write(65536, new byte[4096]).Should().BeTrue();
        }

        Read64(image, 88).Should().Be(0);
        QemuImg.Check(image).Corruptions.Should().Be(0);
    }

    [Theory]
    [InlineData("extended_l2=on,cluster_size=65536", "extended L2")]
    [InlineData("compression_type=zstd", "compression type")]
    public void Qcow2_features_we_do_not_implement_are_refused_by_name(string options, string name)
    {
        string image = _dir["f.qcow2"];
        QemuImg.Create(image, "1M", options);
        AssertRefused(image, name);
    }

    [Fact]
    public void The_feature_name_table_names_an_unknown_incompatible_feature()
    {
        string image = Sample();
        // QEMU's feature name table has entries of 48 bytes: type, bit, name. Rename incompatible bit 1 and set bit 63.
        byte[] header = File.ReadAllBytes(image).AsSpan(0, 65536).ToArray();
        int table = IndexOf(header, 0x6803F857);
        table.Should().BePositive("QEMU writes a feature name table");
        header[table + 8] = 0;
        header[table + 9] = 63;
        "quantum entanglement\0"u8.CopyTo(header.AsSpan(table + 10));
        WriteAt(image, 0, header);
        Patch64(image, 72, 1UL << 63);
        AssertRefused(image, "'quantum entanglement' (bit 63)");
    }

    [Fact]
    public void A_backing_file_name_longer_than_1023_bytes_is_refused()
    {
        string image = Sample();
        Patch64(image, 8, 512);
        Patch32(image, 16, 2000);
        AssertRefused(image, "backing file name is 2000 bytes");
    }

    [Fact]
    public void An_L2_entry_pointing_at_metadata_fails_the_request_and_is_counted()
    {
        string image = Sample();
        long l2 = (long)(Read64(image, 0x30000) & 0x00FF_FFFF_FFFF_FE00);
        Patch64(image, l2 + (16 * 8), 0x8000_0000_0003_0000UL); // guest cluster 16 (1 MiB) -> the L1 table's cluster
        Patch64(image, l2 + (17 * 8), 0x8000_0000_0000_0000UL | 0x10200); // cluster 17: unaligned
        using (var disk = Qcow2BlockBackendReadTests.Open(image))
        {
            byte[] data = new byte[512];
            disk.Read(1 << 20, data).Should().BeFalse();
            disk.LastError.Should().Contain("the image's own metadata");
            disk.Write(1 << 20, data).Should().BeFalse("a write there would overwrite the L1 table");
            disk.CorruptionErrors.Should().Be(2);
            disk.Read(0, data).Should().BeFalse("the table holding the bad entry is refused as a whole");
        }

        Read64(image, 0x30000).Should().NotBe(0, "the L1 table is intact");
    }

    [Fact]
    public void A_compressed_entry_pointing_into_the_header_fails_the_read()
    {
        string image = Sample();
        long l2 = (long)(Read64(image, 0x30000) & 0x00FF_FFFF_FFFF_FE00);
        Patch64(image, l2 + (20 * 8), (1UL << 62) | 0x100);
        using var disk = Qcow2BlockBackendReadTests.Open(image, readOnly: true);
        disk.Read(20 * 65536, new byte[512]).Should().BeFalse();
        disk.LastError.Should().Contain("into the header");
    }

    [Fact]
    public void A_refcount_block_on_the_L1_table_is_refused_at_open()
    {
        string image = Sample();
        Patch64(image, 0x10000 + 8, 0x30000);
        AssertRefused(image, "overlap");
    }

    [Fact]
    public void An_L1_entry_past_the_end_of_the_file_is_refused_at_open()
    {
        string image = Sample();
        Patch64(image, 0x30000, 0x8000_0000_7000_0000UL);
        AssertRefused(image, "L1 entry 0");
    }

    [Fact]
    public void A_backing_loop_is_refused()
    {
        string a = _dir["a.qcow2"], b = _dir["b.qcow2"];
        QemuImg.Create(b, "1M");
        QemuImg.Create(a, "1M", backing: "b.qcow2", backingFormat: "qcow2");
        QemuImg.Img("rebase", "-u", "-f", "qcow2", "-b", "a.qcow2", "-F", "qcow2", b);
        AssertRefused(a, "loops");
        string self = _dir["self.qcow2"];
        Qcow2Creator.Create(self, 1 << 20, "self.qcow2", DiskImageFormat.Qcow2);
        AssertRefused(self, "loops");
    }

    [Fact]
    public void A_chain_of_16_backing_files_opens_and_one_of_20_is_refused()
    {
        File.WriteAllBytes(_dir["l0.raw"], [.. Enumerable.Repeat((byte)7, 65536)]);
        string previous = "l0.raw";
        var format = DiskImageFormat.Raw;
        for (int i = 1; i <= 20; i++)
        {
            Qcow2Creator.Create(_dir[$"l{i}.qcow2"], 65536, previous, format);
            previous = $"l{i}.qcow2";
            format = DiskImageFormat.Qcow2;
        }

        using (var disk = Qcow2BlockBackendReadTests.Open(_dir["l16.qcow2"], readOnly: true))
        {
            byte[] data = new byte[512];
            disk.Read(0, data).Should().BeTrue();
            data.Should().OnlyContain(b => b == 7, "the data comes up through 16 layers");
        }

        AssertRefused(_dir["l20.qcow2"], "more than 16 images deep");
    }

    [Fact]
    public void A_missing_backing_file_or_an_unknown_backing_format_is_refused()
    {
        Qcow2Creator.Create(_dir["o.qcow2"], 65536, "gone.raw");
        AssertRefused(_dir["o.qcow2"], "cannot open its backing file");
        string image = _dir["v.qcow2"];
        File.WriteAllBytes(_dir["base.raw"], new byte[65536]);
        QemuImg.Create(image, "64k", backing: "base.raw", backingFormat: "raw");
        byte[] header = File.ReadAllBytes(image).AsSpan(0, 4096).ToArray();
        int extension = IndexOf(header, 0xE2792ACA);
        "vmdk"u8.CopyTo(header.AsSpan(extension + 8));
        Patch32(image, extension + 4, 4);
        WriteAt(image, extension + 8, "vmdk"u8.ToArray());
        AssertRefused(image, "'vmdk'");
    }

    [Fact]
    public void Random_damage_to_the_metadata_never_escapes_as_anything_but_a_refusal_or_a_failed_request()
    {
        string pristine = _dir["pristine.qcow2"];
        QemuImg.Create(pristine, "2M", "cluster_size=4096");
        QemuImg.Io(pristine, "qcow2", "write -P 0x11 0 300k", "write -P 0x12 1M 200k", "write -z 600k 64k");
        byte[] original = File.ReadAllBytes(pristine);
        var random = new Random(1234);
        int refused = 0, opened = 0;
        byte[] buffer = new byte[64 * 1024];
        for (int round = 0; round < 300; round++)
        {
            byte[] damaged = (byte[])original.Clone();
            int metadataEnd = Math.Min(damaged.Length, 6 * 4096); // header, refcount table and block, L1, first L2
            for (int flips = random.Next(1, 5); flips > 0; flips--)
            {
                damaged[random.Next(0, metadataEnd)] ^= (byte)(1 << random.Next(8));
            }

            string image = _dir[$"fuzz{round}.qcow2"];
            File.WriteAllBytes(image, damaged);
            Qcow2BlockBackend disk;
            try
            {
                disk = Qcow2BlockBackendReadTests.Open(image);
            }
            catch (IOException)
            {
                refused++; // DiskImageException is an IOException
                File.Delete(image);
                continue;
            }

            opened++;
            using (disk)
            {
                for (long at = 0; at < disk.Length; at += buffer.Length)
                {
                    disk.Read(at, buffer.AsSpan(0, (int)Math.Min(buffer.Length, disk.Length - at)));
                }

                if (disk.Length >= 1 << 20)
                {
                    disk.Write(512 * 1024, buffer.AsSpan(0, 8192));
                    disk.Discard(0, 65536);
                    disk.WriteZeroes(700 * 1024, 4096 * 3, true);
                    disk.Flush();
                }
            }

            File.Delete(image);
        }

        refused.Should().BePositive();
        opened.Should().BePositive();
    }

    private static void AssertRefused(string image, string message)
    {
        var open = () => DiskImages.Open(new DiskOptions(image, Format: DiskImageFormat.Qcow2)).Dispose();
        open.Should().Throw<DiskImageException>().Which.Message.Should().Contain(message);
    }

    private static int IndexOf(byte[] bytes, uint magic)
    {
        Span<byte> pattern = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(pattern, magic);
        return bytes.AsSpan().IndexOf(pattern);
    }

    private static void Patch32(string image, long offset, uint value)
    {
        byte[] bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        WriteAt(image, offset, bytes);
    }

    private static void Patch64(string image, long offset, ulong value)
    {
        byte[] bytes = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, value);
        WriteAt(image, offset, bytes);
    }

    private static ulong Read64(string image, long offset)
    {
        byte[] bytes = new byte[8];
        using var file = File.OpenHandle(image);
        RandomAccess.Read(file, bytes, offset);
        return BinaryPrimitives.ReadUInt64BigEndian(bytes);
    }

    private static void WriteAt(string image, long offset, byte[] bytes)
    {
        using var file = File.OpenHandle(image, FileMode.Open, FileAccess.Write);
        RandomAccess.Write(file, bytes, offset);
    }
}
