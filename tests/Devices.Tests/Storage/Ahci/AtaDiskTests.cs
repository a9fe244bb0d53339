using System.Buffers.Binary;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Platform.Devices.Storage.Ahci;
using Platform.Devices.Tests.Fakes;
using Platform.Devices.Virtio.Block;
using static Platform.Devices.Storage.Ahci.AhciRegisters;

namespace Platform.Devices.Tests.Storage.Ahci;

// A SATA disk on port 0 of the HBA, over a raw image file, driven as Linux's libata and SeaBIOS drive one: IDENTIFY,
// DMA/PIO/NCQ reads and writes, flush, TRIM; a guest's bad PRDT or LBA ends its command with an error and counts it.
public sealed class AtaDiskTests : IDisposable
{
    private const int DiskSectors = 2048;
    private const ulong Data = AhciDriver.DataBuffer;

    private readonly string _path = Path.Combine(Path.GetTempPath(), $"ata-disk-{Guid.NewGuid():N}.img");
    private readonly FakeGuestMemory _memory = new(1 << 20);
    private AtaDisk? _disk;
    private AhciDriver? _driver;

    public AtaDiskTests()
    {
        byte[] image = new byte[DiskSectors * AtaDisk.SectorSize];
        for (int s = 0; s < DiskSectors; s++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(image.AsSpan(s * AtaDisk.SectorSize), 0x5EC0_0000 + s);
        }

        File.WriteAllBytes(_path, image);
    }

    public void Dispose()
    {
        _disk?.Dispose();
        File.Delete(_path);
    }

    private AhciDriver Start(bool readOnly = false, IFileSpaceOperations? space = null)
    {
        _disk = new AtaDisk(RawFileBlockBackend.Open(new DiskOptions(_path, readOnly), space), "SATA-SERIAL-1");
        _driver = new AhciDriver(new AhciController(_memory, intx: null, [_disk]), _memory);
        _driver.StartPort();
        return _driver;
    }

    private static ushort[] Identify(AhciDriver driver)
    {
        driver.IssueAta(AtaDisk.IdentifyDevice, device: 0).Should().Be(IsPss | IsDhrs);
        byte[] bytes = driver.Bytes(Data, 512);
        return [.. Enumerable.Range(0, 256).Select(i => BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(2 * i)))];
    }

    private static string AtaString(ushort[] words, int first, int count) =>
        Encoding.ASCII.GetString([.. words.Skip(first).Take(count).SelectMany(w => new[] { (byte)(w >> 8), (byte)w })]).TrimEnd();

    private int SectorTag(ulong address) => BinaryPrimitives.ReadInt32LittleEndian(_driver!.Bytes(address, 4));

    private byte[] ImageSector(int sector)
    {
        _disk!.Dispose();
        _disk = null;
        return File.ReadAllBytes(_path).AsSpan(sector * AtaDisk.SectorSize, AtaDisk.SectorSize).ToArray();
    }

    [Fact]
    public void A_grown_disk_reports_its_new_capacity_at_the_next_IDENTIFY_and_its_new_sectors_can_be_written()
    {
        // block_resize on a SATA disk: ATA has no capacity-change notice, so the guest learns the size when it reads
        // IDENTIFY again (Linux's rescan), as with QEMU's AHCI disks.
        var driver = Start();
        static ulong Lba48Sectors(ushort[] words) => words[100] | ((ulong)words[101] << 16) | ((ulong)words[102] << 32) | ((ulong)words[103] << 48);
        Lba48Sectors(Identify(driver)).Should().Be(DiskSectors);

        _disk!.Grow(2L * DiskSectors * AtaDisk.SectorSize);

        Lba48Sectors(Identify(driver)).Should().Be(2 * DiskSectors);
        _memory.TryWrite(Data, Enumerable.Repeat((byte)0x7A, AtaDisk.SectorSize).ToArray());
        driver.IssueAta(AtaDisk.WriteDmaExt, lba: (2 * DiskSectors) - 1, count: 1, prds: [(Data, AtaDisk.SectorSize)])
            .Should().Be(IsDhrs, "the last sector of the grown disk takes a write");
        driver.D2h().Status.Should().Be(AtaResult.StatusOk);
        FluentActions.Invoking(() => _disk.Grow(DiskSectors * AtaDisk.SectorSize)).Should().Throw<DiskImageException>("shrinking is refused");
        ImageSector((2 * DiskSectors) - 1).Should().OnlyContain(b => b == 0x7A);
    }

    [Fact]
    public void The_port_sends_the_ATA_signature_and_IDENTIFY_DEVICE_reports_capacity_LBA48_NCQ_cache_and_flush()
    {
        var driver = Start();
        driver.Read(AhciDriver.Port(0, PxSig)).Should().Be(AtaDisk.AtaSignature);
        (driver.Read(HostCapabilities) & CapSncq).Should().NotBe(0, "CAP says the HBA queues commands");

        var words = Identify(driver);
        (words[0] & 0x80).Should().Be(0, "a fixed disk, not removable");
        (words[60] | ((uint)words[61] << 16)).Should().Be(DiskSectors);
        (words[100] | ((ulong)words[101] << 16) | ((ulong)words[102] << 32) | ((ulong)words[103] << 48)).Should().Be(DiskSectors);
        (words[83] & (1 << 10)).Should().NotBe(0, "LBA48");
        (words[83] & ((1 << 13) | (1 << 12))).Should().Be((1 << 13) | (1 << 12), "FLUSH CACHE and FLUSH CACHE EXT");
        words[75].Should().Be(31, "32 NCQ tags");
        (words[76] & (1 << 8)).Should().NotBe(0, "NCQ");
        (words[82] & (1 << 5)).Should().NotBe(0, "a write cache");
        (words[85] & (1 << 5)).Should().NotBe(0, "the write cache is on");
        (words[169] & 1).Should().Be(0, "no TRIM without a backend that discards");
        AtaString(words, 10, 10).Should().Be("SATA-SERIAL-1");
        AtaString(words, 27, 20).Should().Be(AtaDisk.Model);
    }

    [Fact]
    public void IDENTIFY_PACKET_DEVICE_is_aborted_so_SeaBIOS_falls_back_to_IDENTIFY_DEVICE()
    {
        var driver = Start();
        (driver.IssueAta(AtapiCdrom.IdentifyPacketDevice) & IsTfes).Should().NotBe(0);
        driver.D2h().Should().Be(((byte)(AtaResult.StatusReady | AtaResult.StatusError), AtaResult.ErrorAbort));
        _disk!.AbortedCommands.Should().Be(1);
    }

    [Fact]
    public void WRITE_DMA_EXT_gathers_the_PRDT_into_the_image_and_READ_DMA_EXT_scatters_it_back()
    {
        var driver = Start();
        byte[] pattern = [.. Enumerable.Range(0, 3 * 512).Select(i => (byte)(i * 7))];
        _memory.TryWrite(Data, pattern.AsSpan(0, 1000));
        _memory.TryWrite(Data + 0x8000, pattern.AsSpan(1000));
        driver.IssueAta(AtaDisk.WriteDmaExt, lba: 1000, count: 3, prds: [(Data, 1000), (Data + 0x8000, 536)]).Should().Be(IsDhrs);
        driver.D2h().Status.Should().Be(AtaResult.StatusOk);
        driver.TransferredBytes.Should().Be(1536);

        driver.IssueAta(AtaDisk.ReadDmaExt, lba: 999, count: 4, prds: [(Data + 0x10000, 2048)]).Should().Be(IsDhrs);
        SectorTag(Data + 0x10000).Should().Be(0x5EC0_0000 + 999, "the sector before is untouched");
        driver.Bytes(Data + 0x10000 + 512, 1536).Should().Equal(pattern);
        ImageSector(1002).Should().Equal(pattern.AsSpan(1024).ToArray());
    }

    [Fact]
    public void Twenty_eight_bit_PIO_commands_take_the_LBA_top_from_the_device_register_and_end_with_a_PIO_setup_FIS()
    {
        var driver = Start();
        // LBA 0x000_0400 split across the LBA registers (0x400) and device bits 0-3 (0), count 2.
        driver.IssueAta(AtaDisk.ReadSectors, lba: 0x400, count: 2, device: 0xE0).Should().Be(IsPss | IsDhrs);
        SectorTag(Data).Should().Be(0x5EC0_0000 + 0x400);
        SectorTag(Data + 512).Should().Be(0x5EC0_0000 + 0x401);

        _memory.TryWrite(Data, new byte[512]);
        driver.IssueAta(AtaDisk.WriteSectors, lba: 7, count: 1, device: 0xE0).Should().Be(IsPss | IsDhrs);
        ImageSector(7).Should().OnlyContain(b => b == 0);
    }

    [Fact]
    public void NCQ_commands_end_with_a_Set_Device_Bits_FIS_that_frees_their_tag_in_PxSACT()
    {
        var driver = Start();
        byte[] pattern = [.. Enumerable.Range(0, 1024).Select(i => (byte)(255 - i))];
        _memory.TryWrite(Data, pattern);
        // Count in the features registers, the tag (= slot) in count bits 7:3, device bit 6 set.
        driver.IssueAta(AtaDisk.WriteFpdmaQueued, lba: 300, count: 3 << 3, features: 2, slot: 3, queued: true).Should().Be(IsSdbs);
        driver.SetDeviceBits().Should().Be(((byte)(AtaResult.StatusOk & 0x77), (byte)0, 1u << 3));
        driver.Read(AhciDriver.Port(0, PxSact)).Should().Be(0);

        driver.IssueAta(AtaDisk.ReadFpdmaQueued, lba: 300, count: 5 << 3, features: 2, slot: 5, queued: true,
            prds: [(Data + 0x4000, 1024)]).Should().Be(IsSdbs);
        driver.SetDeviceBits().Finished.Should().Be(1u << 5);
        driver.Bytes(Data + 0x4000, 1024).Should().Equal(pattern);
        _disk!.QueuedCommands.Should().Be(2);
        ImageSector(301).Should().Equal(pattern.AsSpan(512).ToArray());
    }

    [Fact]
    public void A_queued_command_past_the_end_fails_in_its_Set_Device_Bits_FIS_with_a_task_file_error()
    {
        var driver = Start();
        driver.IssueAta(AtaDisk.ReadFpdmaQueued, lba: DiskSectors - 1, count: 2 << 3, features: 2, slot: 2, queued: true)
            .Should().Be(IsSdbs | IsTfes);
        var bits = driver.SetDeviceBits();
        (bits.Status & AtaResult.StatusError).Should().NotBe(0);
        bits.Finished.Should().Be(0, "the failed command finished nothing");
        (driver.Read(AhciDriver.Port(0, PxTfd)) & AtaResult.StatusError).Should().NotBe(0u);
        driver.Read(AhciDriver.Port(0, PxSact)).Should().Be(0);
    }

    [Theory]
    [InlineData(AtaDisk.ReadDmaExt, DiskSectors - 1, 2)]
    [InlineData(AtaDisk.ReadDmaExt, DiskSectors, 1)]
    [InlineData(AtaDisk.WriteDmaExt, DiskSectors - 1, 2)]
    [InlineData(AtaDisk.ReadVerifySectorsExt, 0x0000_FFFF_FFFF_FFFF, 1)]
    public void A_range_past_the_last_sector_is_aborted_and_moves_nothing(byte command, ulong lba, int count)
    {
        var driver = Start();
        _memory.TryWrite(Data, Enumerable.Repeat((byte)0xAA, 1024).ToArray());
        (driver.IssueAta(command, lba, (ushort)count, prds: [(Data, 1024)]) & IsTfes).Should().NotBe(0);
        driver.D2h().Error.Should().Be(AtaResult.ErrorAbort);
        _disk!.AbortedCommands.Should().Be(1);
        driver.Bytes(Data, 4).Should().OnlyContain(b => b == 0xAA, "nothing was read into the buffer");
        ImageSector(DiskSectors - 1).Take(4).Should().Equal(BitConverter.GetBytes(0x5EC0_0000 + DiskSectors - 1));
    }

    [Fact]
    public void A_read_only_disk_reads_but_aborts_writes_leaving_the_image_as_it_was()
    {
        var driver = Start(readOnly: true);
        driver.IssueAta(AtaDisk.ReadDma, lba: 5, count: 1, device: 0xE0).Should().Be(IsDhrs);
        SectorTag(Data).Should().Be(0x5EC0_0005);
        _memory.TryWrite(Data, new byte[512]);
        (driver.IssueAta(AtaDisk.WriteDma, lba: 5, count: 1, device: 0xE0) & IsTfes).Should().NotBe(0);
        (driver.IssueAta(AtaDisk.WriteFpdmaQueued, lba: 5, features: 1, queued: true) & IsTfes).Should().NotBe(0);
        _disk!.AbortedCommands.Should().Be(2);
        _disk.BytesWritten.Should().Be(0);
        ImageSector(5).Take(4).Should().Equal(BitConverter.GetBytes(0x5EC0_0005));
    }

    [Fact]
    public void A_PRDT_without_entries_or_shorter_than_the_transfer_is_an_overflow_and_the_port_keeps_working()
    {
        var driver = Start();
        _memory.TryWrite(Data, Enumerable.Repeat((byte)0x55, 4096).ToArray());
        (driver.IssueAta(AtaDisk.ReadDmaExt, lba: 0, count: 1, prdtLength: 0) & (IsOfs | IsTfes)).Should().Be(IsOfs | IsTfes);
        (driver.IssueAta(AtaDisk.WriteDmaExt, lba: 0, count: 1, prdtLength: 0) & (IsOfs | IsTfes)).Should().Be(IsOfs | IsTfes);
        (driver.IssueAta(AtaDisk.WriteDmaExt, lba: 0, count: 4, prds: [(Data, 1024)]) & (IsOfs | IsTfes)).Should().Be(IsOfs | IsTfes);
        (driver.IssueAta(AtaDisk.ReadDmaExt, lba: 0, count: 4, prds: [(Data, 1024)]) & (IsOfs | IsTfes)).Should().Be(IsOfs | IsTfes);
        driver.D2h().Error.Should().Be(AtaResult.ErrorAbort);
        driver.Controller.Ports[0].BadCommands.Should().Be(4);
        _disk!.BytesWritten.Should().Be(0, "a write whose data did not all arrive never reaches the disk");

        driver.IssueAta(AtaDisk.ReadDmaExt, lba: 9, count: 1).Should().Be(IsDhrs);
        SectorTag(Data).Should().Be(0x5EC0_0009);
        ImageSector(0).Take(4).Should().Equal(BitConverter.GetBytes(0x5EC0_0000));
    }

    [Fact]
    public void PRDs_and_command_tables_outside_RAM_are_host_bus_errors_never_a_crash()
    {
        var driver = Start();
        ulong outside = _memory.End + 0x1000;
        (driver.IssueAta(AtaDisk.ReadDmaExt, count: 1, prds: [(outside, 512)]) & IsHbds).Should().NotBe(0);
        (driver.IssueAta(AtaDisk.WriteDmaExt, count: 1, prds: [(outside, 512)]) & IsHbds).Should().NotBe(0);
        (driver.IssueAta(AtaDisk.WriteDmaExt, count: 1, prds: [(ulong.MaxValue - 255, 512)]) & IsHbds).Should().NotBe(0);
        (driver.IssueAta(AtaDisk.ReadDmaExt, count: 1, table: outside & ~0x7FUL) & IsHbfs).Should().NotBe(0);
        // 65,535 PRDs of 4 MiB claimed, the table running off the end of RAM: the HBA stops where memory ends.
        (driver.IssueAta(AtaDisk.ReadDmaExt, count: DiskSectors, prdtLength: 0xFFFF, table: _memory.End - 0x100) & IsTfes).Should().NotBe(0);
        driver.Controller.Ports[0].BadCommands.Should().Be(5);
        _disk!.BytesWritten.Should().Be(0);
        driver.IssueAta(AtaDisk.ReadDmaExt, lba: 3, count: 1).Should().Be(IsDhrs, "the port still works");
    }

    [Fact]
    public void Thousands_of_random_commands_and_PRDTs_end_in_a_status_never_an_exception_and_the_port_still_works()
    {
        var driver = Start();
        var random = new Random(15);
        byte[] commands =
        [
            AtaDisk.ReadDmaExt, AtaDisk.WriteDmaExt, AtaDisk.ReadDma, AtaDisk.WriteDma, AtaDisk.ReadSectors, AtaDisk.WriteSectorsExt,
            AtaDisk.ReadFpdmaQueued, AtaDisk.WriteFpdmaQueued, AtaDisk.DataSetManagement, AtaDisk.ReadVerifySectors, AtaDisk.FlushCacheExt,
            AtaDisk.SetFeatures, AtaDisk.SetMultipleMode, AtaDisk.IdentifyDevice,
        ];
        ulong[] places = [Data, Data + 0x3FF, _memory.End - 512, _memory.End, _memory.End + 0x1000, ulong.MaxValue - 100, 0];
        for (int i = 0; i < 3000; i++)
        {
            byte command = random.Next(4) == 0 ? (byte)random.Next(256) : commands[random.Next(commands.Length)];
            var prds = Enumerable.Range(0, random.Next(0, 4)).Select(_ => (places[random.Next(places.Length)], random.Next(1, 8192))).ToArray();
            int slot = random.Next(4);
            uint status = driver.IssueAta(command, lba: (ulong)random.Next(DiskSectors + 16), count: (ushort)random.Next(0, 24),
                features: (ushort)random.Next(0, 24), device: (byte)random.Next(256), prds: prds, slot: slot, queued: random.Next(2) == 0,
                prdtLength: random.Next(8) == 0 ? (uint)random.Next(0x10000) : null);
            status.Should().NotBe(0, $"command {i} (0x{command:x2}) ended with an interrupt status, error or not");
            driver.Read(AhciDriver.Port(0, PxSact)).Should().Be(0, "no tag stays busy after its command");
        }

        driver.IssueAta(AtaDisk.WriteDmaExt, lba: 42, count: 1).Should().Be(IsDhrs);
        driver.IssueAta(AtaDisk.ReadDmaExt, lba: 42, count: 1, prds: [(Data + 0x8000, 512)]).Should().Be(IsDhrs);
        driver.Bytes(Data + 0x8000, 512).Should().Equal(driver.Bytes(Data, 512));
        driver.Controller.Ports[0].BadCommands.Should().BePositive();
        _disk!.AbortedCommands.Should().BePositive();
    }

    [Fact]
    public void Flush_feature_power_and_multiple_mode_commands_complete_and_unknown_ones_abort_counted()
    {
        var driver = Start();
        driver.IssueAta(AtaDisk.FlushCacheExt).Should().Be(IsDhrs);
        driver.IssueAta(AtaDisk.FlushCache).Should().Be(IsDhrs);
        driver.IssueAta(AtaDisk.IdleImmediate).Should().Be(IsDhrs);
        driver.IssueAta(AtaDisk.StandbyImmediate).Should().Be(IsDhrs);
        driver.IssueAta(AtaDisk.SetMultipleMode, count: 8).Should().Be(IsDhrs);
        driver.IssueAta(AtaDisk.SetFeatures, features: 0x03, count: 0x45).Should().Be(IsDhrs, "set transfer mode UDMA 5");
        driver.IssueAta(AtaDisk.ReadVerifySectorsExt, lba: 10, count: 100).Should().Be(IsDhrs);
        driver.IssueAta(AtaDisk.SetFeatures, features: 0x82).Should().Be(IsDhrs);
        (Identify(driver)[85] & (1 << 5)).Should().Be(0, "the write cache was turned off");
        Identify(driver)[59].Should().Be(0x100 | 8);

        (driver.IssueAta(AtaDisk.SetMultipleMode, count: 3) & IsTfes).Should().NotBe(0, "3 is not a power of two");
        (driver.IssueAta(0xB0, features: 0xD0) & IsTfes).Should().NotBe(0, "SMART is not offered");
        (driver.IssueAta(AtaDisk.SetFeatures, features: 0x42) & IsTfes).Should().NotBe(0);
        (driver.IssueAta(AtaDisk.DataSetManagement, count: 1, features: 1) & IsTfes).Should().NotBe(0, "no TRIM without discard");
        _disk!.AbortedCommands.Should().Be(4);
        _disk.FlushCommands.Should().Be(2);
    }

    [Fact]
    public void TRIM_is_offered_with_a_discarding_backend_and_releases_each_range_after_checking_them_all()
    {
        var space = new RecordingSpaceOperations();
        var driver = Start(space: space);
        (Identify(driver)[169] & 1).Should().Be(1);

        byte[] ranges = new byte[512];
        BinaryPrimitives.WriteUInt64LittleEndian(ranges, 100 | (8UL << 48));
        BinaryPrimitives.WriteUInt64LittleEndian(ranges.AsSpan(8), 500 | (2UL << 48));
        _memory.TryWrite(Data, ranges);
        driver.IssueAta(AtaDisk.DataSetManagement, count: 1, features: 1, prds: [(Data, 512)]).Should().Be(IsDhrs);
        space.Calls.Should().Equal((100L * 512, 8L * 512), (500L * 512, 2L * 512));

        BinaryPrimitives.WriteUInt64LittleEndian(ranges.AsSpan(16), (DiskSectors - 1) | (2UL << 48));
        _memory.TryWrite(Data, ranges);
        (driver.IssueAta(AtaDisk.DataSetManagement, count: 1, features: 1, prds: [(Data, 512)]) & IsTfes).Should().NotBe(0);
        space.Calls.Should().HaveCount(2, "a list with a bad range releases nothing");
    }

    private sealed class RecordingSpaceOperations : IFileSpaceOperations
    {
        public List<(long Offset, long Length)> Calls { get; } = [];

        public bool TryPunchHole(SafeFileHandle file, long offset, long length, out string? failure)
        {
            Calls.Add((offset, length));
            failure = null;
            return true;
        }

        public bool TryZeroRange(SafeFileHandle file, long offset, long length, out string? failure)
        {
            failure = null;
            return true;
        }
    }
}
