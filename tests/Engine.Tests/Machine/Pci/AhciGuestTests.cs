using System.Text.RegularExpressions;
using Platform.Devices.Virtio.Block;
using Platform.Devices.Virtio.Block.Qcow2;
using Platform.Engine.Machine;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Machine.Pci;

// The ahci test guest (tests/guests/ahci.c) drives our AHCI controller's SATA disk directly — IDENTIFY, WRITE DMA EXT,
// NCQ writes and reads, FLUSH CACHE EXT, an out-of-range read and the recovery — and QEMU's ICH9 AHCI + ide-hd runs
// the same guest as the reference; afterwards both image files hold what the guest wrote. With msi=1 the guest ends by
// taking the controller's MSI at its local APIC, once per command, with INTx down, and INTx again with MSI off.
public sealed partial class AhciGuestTests : IDisposable
{
    private const long DiskBytes = 16 << 20;
    private const string CommandLine = "sectors=32768 sector=9 count=24 ncq=12 seed=0x5a7a msi=1";
    private const ulong Seed = 0x5a7a;
    private const int First = 9, Sectors = 24 + (12 * 24);
    private static readonly TimeSpan GuestTimeout = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("ahci-guest-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static MachineConfig Machine(params DiskOptions[] disks) => new()
    {
        KernelPath = TestGuests.Path("ahci"),
        CommandLine = CommandLine,
        MemoryBytes = 64ul << 20,
        Display = DisplayKind.None,
        Disks = disks,
    };

    [Fact]
    public async Task The_guest_writes_by_DMA_and_NCQ_reads_back_and_is_aborted_past_the_end_as_under_QEMU()
    {
        using var ours = new DiskImage(DiskBytes);
        using var theirs = new DiskImage(DiskBytes);
        var serial = new SerialCapture();
        var qemu = QemuPc.RunGuestWithSataDiskAsync(TestGuests.Path("ahci"), CommandLine, theirs.Path, memoryMiB: 64, GuestTimeout);
        using (var machine = MachineInstance.Create(Machine(new DiskOptions(ours.Path, Bus: DiskInterface.Sata)), serial))
        {
            machine.Start();
            string output = await serial.WaitForAsync("PLATFORM-TEST ahci PASS", GuestTimeout);
            output.Should().Contain("ahci: port 0: 'Platform HARDDISK', 32768 sectors, LBA48 yes, NCQ depth 32")
                .And.Contain("ahci: wrote 24 sectors by DMA and 12 x 24 by NCQ from 9, flushed")
                .And.Contain("ahci: read back equal by DMA and NCQ")
                .And.Contain("ahci: a read past the end was aborted (PxTFD 0x441) and the port recovered")
                .And.Contain("ahci: MSI capability at 0x80, control 0x0080: 64-bit, 1 vector(s), no per-vector mask")
                .And.Contain("ahci: MSI command 1: PxIS 0x1, vector 0x61 taken 1 time(s), PCI status INTx 0")
                .And.Contain("ahci: MSI command 2: PxIS 0x1, vector 0x61 taken 2 time(s), PCI status INTx 0")
                .And.Contain("ahci: MSI off: PxIS 0x1, PCI status INTx 1, vectors 2");
            var pci = machine.GetDeviceStats().Single(d => d.Name == "pci").Counters;
            pci["msi_route_updates"].Should().BePositive("enabling MSI put the message in KVM's routing table");
            pci["msi_dropped"].Should().Be(0);

            var disk = machine.GetDeviceStats().Single(d => d.Name == "disk0");
            disk.Kind.Should().Be("ahci-disk");
            disk.Counters["write_requests"].Should().Be(13);
            disk.Counters["queued_requests"].Should().Be(24, "12 queued writes and 12 queued reads");
            disk.Counters["write_bytes"].Should().Be(Sectors * 512);
            disk.Counters["flush_requests"].Should().Be(1);
            disk.Counters["aborted_commands"].Should().Be(1, "the read past the end");
            disk.Counters["bad_commands"].Should().Be(0);
        }

        var reference = await qemu;
        reference.ExitCode.Should().Be(0, reference.Stderr);
        Comparable(serial.Text).Should().Equal(Comparable(reference.Stdout), $"ours:\n{serial.Text}\nQEMU's:\n{reference.Stdout}");
        foreach (var image in new[] { ours, theirs })
        {
            image.FirstSectorWithoutPattern(Seed, First, Sectors).Should().Be(-1);
            image.ReadSectors(0, First).Should().OnlyContain(b => b == 0, "sectors before the first written one are untouched");
            image.ReadSectors(First + Sectors, 64).Should().OnlyContain(b => b == 0);
        }
    }

    [Theory]
    [InlineData(DiskCacheMode.Writeback)]
    [InlineData(DiskCacheMode.None)]
    public async Task On_a_qcow2_image_the_guests_writes_land_where_qemu_img_reads_them(DiskCacheMode cache)
    {
        string image = Path.Combine(_dir, "sata.qcow2");
        Qcow2Creator.Create(image, DiskBytes);
        var serial = new SerialCapture();
        // cache=none: O_DIRECT where the file system has it, so the port's transfer buffer must meet its alignment.
        using (var machine = MachineInstance.Create(Machine(new DiskOptions(image, Cache: cache, Bus: DiskInterface.Sata)), serial))
        {
            machine.Start();
            await serial.WaitForAsync("PLATFORM-TEST ahci PASS", GuestTimeout);
            machine.GetDeviceStats().Single(d => d.Name == "disk0").Format.Should().Be("qcow2");
        }

        QemuImg.Check(image).ExitCode.Should().Be(0);
        DiskImage.FirstSectorWithoutPattern(QemuImg.ContentsAsRaw(image).AsSpan(First * 512, Sectors * 512), Seed, First).Should().Be(-1);
    }

    [Fact]
    public async Task A_read_only_SATA_disk_aborts_the_guests_first_write_and_keeps_its_image()
    {
        using var disk = new DiskImage(DiskBytes);
        var serial = new SerialCapture();
        using var machine = MachineInstance.Create(Machine(new DiskOptions(disk.Path, ReadOnly: true, Bus: DiskInterface.Sata)), serial);
        machine.Start();

        await machine.Exited.WaitAsync(GuestTimeout, TestContext.Current.CancellationToken); // the guest resets after its verdict

        string output = serial.Text;
        output.Should().Contain("PLATFORM-TEST ahci FAIL").And.Contain("command 0x35 at 9: PxIS 0x40000001, PxTFD 0x441", "WRITE DMA EXT ended in a task-file error with ABRT");
        machine.GetDeviceStats().Single(d => d.Name == "disk0").Counters["aborted_commands"].Should().Be(1);
        disk.ReadSectors(0, 64).Should().OnlyContain(b => b == 0);
    }

    /// <summary>The guest's lines, less where the controller sits on the bus and the disk's model, which differ by machine.</summary>
    private static List<string> Comparable(string output) =>
        [.. output.Split('\n').Select(l => l.TrimEnd('\r'))
            .Where(l => l.StartsWith("ahci: ", StringComparison.Ordinal) || l.StartsWith("PLATFORM-TEST ", StringComparison.Ordinal))
            .Select(l => Location().Replace(Model().Replace(l, "'MODEL'"), "at 00:SLOT.0"))];

    [GeneratedRegex(@"at 00:[0-9a-f]{2}\.0")]
    private static partial Regex Location();

    [GeneratedRegex("'[^']*'")]
    private static partial Regex Model();
}
