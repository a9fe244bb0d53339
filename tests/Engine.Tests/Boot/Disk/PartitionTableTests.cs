using Platform.Engine.Boot;
using Platform.Engine.Boot.Disk;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Boot.Disk;

// Partition tables written here as fdisk/parted would, read back as Linux numbers them.
public sealed class PartitionTableTests : IDisposable
{
    private readonly BootDisk _disk = new(64L << 20);

    public void Dispose() => _disk.Dispose();

    private PartitionTable Read()
    {
        using var reader = DiskReader.Open(_disk.Path, "disk 0");
        return PartitionTable.Read(reader);
    }

    [Fact]
    public void Crc32_is_the_ieee_polynomial_gpt_uses() =>
        Crc32.Compute("123456789"u8).Should().Be(0xCBF43926u, "the standard check value of CRC-32/ISO-HDLC");

    [Fact]
    public void Mbr_primary_and_logical_partitions_are_numbered_as_linux_numbers_them()
    {
        _disk.WriteMbrWithLogical(
            [new BootDisk.Part(2048, 8192, 0x83, Bootable: true), new BootDisk.Part(10240, 4096, 0x82)],
            new BootDisk.Part(16384, 8192, 0x83), new BootDisk.Part(26624, 8192, 0x8E));

        var table = Read();

        table.Scheme.Should().Be(PartitionScheme.Mbr);
        table.Partitions.Select(p => (p.Number, p.Start / 512, p.Length / 512, p.Role, p.Bootable)).Should().Equal(
            (1, 2048L, 8192L, PartitionRole.Linux, true),
            (2, 10240L, 4096L, PartitionRole.Swap, false),
            (5, 16384L, 8192L, PartitionRole.Linux, false),
            (6, 26624L, 8192L, PartitionRole.Container, false));
        table.Partitions[2].DevicePath("vda").Should().Be("/dev/vda5");
        table.BootSearchOrder().Select(p => p.Number).Should().Equal([1, 5], "swap and LVM hold no boot configuration");
        table.Notes.Should().BeEmpty();
    }

    [Fact]
    public void Mbr_boot_search_puts_the_bootable_partition_before_earlier_ones()
    {
        _disk.WriteMbr(new BootDisk.Part(2048, 8192), new BootDisk.Part(10240, 8192, Bootable: true), new BootDisk.Part(18432, 8192, 0x0C));

        Read().BootSearchOrder().Select(p => p.Number).Should().Equal(2, 1, 3);
    }

    [Fact]
    public void Mbr_partition_past_the_end_of_the_image_is_left_out_with_a_note()
    {
        _disk.WriteMbr(new BootDisk.Part(2048, 8192), new BootDisk.Part(10240, 1_000_000));

        var table = Read();

        table.Partitions.Select(p => p.Number).Should().Equal(1);
        table.Notes.Should().ContainSingle().Which.Should().Contain("partition 2").And.Contain("outside the disk");
    }

    [Fact]
    public void Mbr_extended_chain_that_loops_ends_with_a_note()
    {
        _disk.WriteMbrWithLogical([new BootDisk.Part(2048, 4096)], new BootDisk.Part(10240, 4096), new BootDisk.Part(16384, 4096));
        // Point the second EBR's link back at the first EBR (offset 0 from the extended partition's start).
        long secondEbr = 16384 - BootDisk.FirstPartitionSector;
        byte[] link = [0, 0, 0, 0, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0];
        _disk.WriteAt((secondEbr * 512) + 446 + 16, link);

        var table = Read();

        table.Partitions.Select(p => p.Number).Should().Equal(1, 5, 6);
        table.Notes.Should().ContainSingle().Which.Should().Contain("loops back");
    }

    [Fact]
    public void Gpt_numbers_partitions_by_entry_index_and_searches_the_esp_first()
    {
        _disk.WriteGpt(
            new BootDisk.Part(2048, 4096, Name: "root"),
            null,
            new BootDisk.Part(8192, 4096, GptType: BootDisk.LinuxSwap),
            new BootDisk.Part(16384, 4096, GptType: BootDisk.EfiSystem, Name: "EFI System"));

        var table = Read();

        table.Scheme.Should().Be(PartitionScheme.Gpt);
        table.Partitions.Select(p => (p.Number, p.Start / 512, p.Role)).Should().Equal(
            (1, 2048L, PartitionRole.Linux), (3, 8192L, PartitionRole.Swap), (4, 16384L, PartitionRole.EfiSystem));
        table.Partitions[0].Type.Should().Contain("0fc63daf-8483-4772-8e79-3d69d8477de4").And.Contain("\"root\"");
        table.BootSearchOrder().Select(p => p.Number).Should().Equal(4, 1);
    }

    [Fact]
    public void Gpt_with_a_damaged_primary_header_is_read_from_the_backup()
    {
        _disk.WriteGpt(new BootDisk.Part(2048, 4096));
        _disk.WriteAt(512 + 100, [0xFF]); // outside the 92 checked bytes: harmless
        _disk.WriteAt(512 + 40, [0xFF]); // first usable LBA: the header CRC no longer matches

        var table = Read();

        table.Partitions.Should().ContainSingle().Which.Number.Should().Be(1);
        table.Notes.Should().ContainSingle().Which.Should().Contain("primary header is damaged (header checksum is wrong)");
    }

    [Fact]
    public void Gpt_with_both_headers_damaged_is_a_clear_error()
    {
        _disk.WriteGpt(new BootDisk.Part(2048, 4096));
        _disk.WriteAt(2 * 512, [0xAB]); // the entry array (both headers share its CRC)
        _disk.WriteAt(_disk.Length - (33 * 512), [0xAB]);

        var act = Read;

        act.Should().Throw<BootException>().WithMessage("disk 0: the GPT is damaged: primary header: the entry array's checksum is wrong; backup header: the entry array's checksum is wrong.");
    }

    [Fact]
    public void Gpt_with_a_huge_entry_count_is_refused_before_allocating()
    {
        _disk.WriteGpt(new BootDisk.Part(2048, 4096));
        foreach (long lba in new[] { 1L, (_disk.Length / 512) - 1 })
        {
            byte[] header = _disk.ReadAt(lba * 512, 92);
            BitConverter.TryWriteBytes(header.AsSpan(80), 0x7FFF_FFFFu);
            header.AsSpan(16, 4).Clear();
            BitConverter.TryWriteBytes(header.AsSpan(16), Crc32.Compute(header));
            _disk.WriteAt(lba * 512, header);
        }

        var act = Read;

        act.Should().Throw<BootException>().WithMessage("*2147483647 entries of 128 bytes are more than this reader takes*");
    }

    [Fact]
    public void Disk_without_a_table_is_one_whole_disk_partition()
    {
        var table = Read();

        table.Scheme.Should().Be(PartitionScheme.None);
        table.Partitions.Should().ContainSingle().Which.Should().Be(new DiskPartition(0, 0, 64L << 20, "none", PartitionRole.WholeDisk, false));
        table.Partitions[0].DevicePath("vda").Should().Be("/dev/vda");
    }

    [Fact]
    public void Tiny_image_is_a_clear_error()
    {
        using var tiny = new BootDisk(700);
        using var reader = DiskReader.Open(tiny.Path, "disk 0");

        var act = () => PartitionTable.Read(reader);

        act.Should().Throw<BootException>().WithMessage("disk 0: the image is 700 bytes, too small*");
    }
}
