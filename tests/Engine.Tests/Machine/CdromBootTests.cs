using Platform.Devices.Virtio.Block;
using Platform.Engine.Machine;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Machine;

// Debian's SeaBIOS boots the kit's El Torito CD (tests/guests/boot/cdboot.S) from the ATAPI drive on our AHCI
// controller, through its own AHCI driver and int 13h, and QEMU's ICH9 AHCI is the reference for what the guest says.
public sealed class CdromBootTests
{
    private static readonly TimeSpan BiosTimeout = TimeSpan.FromSeconds(90);

    private static MachineConfig Bios(string? iso, IReadOnlyList<BootDevice>? order = null, params DiskOptions[] disks) => new()
    {
        Firmware = FirmwareKind.Bios,
        MemoryBytes = 128ul << 20,
        Display = DisplayKind.None,
        Disks = disks,
        HasCdrom = true,
        CdromPath = iso,
        BootOrder = order ?? [BootDevice.Disk, BootDevice.Cdrom],
    };

    [Fact]
    public async Task SeaBIOS_boots_the_CD_guest_from_AHCI_and_it_says_what_it_says_under_QEMUs_ICH9_AHCI()
    {
        string iso = TestGuests.CdImage("cdboot");
        var serial = new SerialCapture();
        var log = new SerialCapture();
        using var machine = MachineInstance.Create(Bios(iso), serial, firmwareLog: log);
        machine.Start();
        var qemu = QemuPc.BootCdromAsync(iso, memoryMiB: 128, BiosTimeout);

        var exit = await machine.Exited.WaitAsync(BiosTimeout, TestContext.Current.CancellationToken);
        var reference = await qemu;

        string output = serial.Text;
        exit.Reason.Should().Be(MachineExitReason.Reset, $"the guest resets at its end; it printed:\n{output}");
        GuestLines(output).Should().Contain("PLATFORM-TEST cdboot PASS", output)
            .And.Contain("cdboot: booted from drive 0xe0")
            .And.Contain("cdboot: int 13h extended read of sector 16: volume PLATFORM_CDTEST")
            .And.Contain("cdboot: int 13h extended read of the boot file's second sector: second stage intact")
            .And.Contain("cdboot: int 13h drive parameters: bytes per sector 0x00000800");
        reference.ExitCode.Should().Be(0, reference.Stderr);
        GuestLines(output).Should().Equal(GuestLines(reference.Stdout), $"ours:\n{output}\nQEMU's:\n{reference.Stdout}");

        int slot = machine.PciDevices.Ahci!.DeviceNumber;
        log.Text.Should().Contain($"AHCI controller at 00:{slot:x2}.0")
            .And.Contain("AHCI/0: registering: \"DVD/CD [AHCI/0: Platform DVD-ROM ATAPI-4 DVD/CD]\"")
            .And.Contain($"Searching bootorder for: /pci@i0cf8/*@{slot:x}/drive@0/disk@0")
            .And.Contain("Booting from DVD/CD...");
        var stats = machine.GetDeviceStats().Single(d => d.Name == "cdrom0");
        stats.Counters["read_sectors"].Should().BeGreaterThanOrEqualTo(4, "the boot record, the catalog, the boot image and the guest's two reads");
        stats.Counters["bad_commands"].Should().Be(0);
        stats.Counters["bad_accesses"].Should().Be(0);
        stats.Medium.Should().Be(iso);
    }

    [Theory]
    [InlineData("cdrom,disk", "cdboot")]
    [InlineData("disk,cdrom", "mbr")]
    public async Task The_boot_order_decides_between_the_disk_and_the_CD(string order, string booted)
    {
        var devices = order.Split(',').Select(n => VmConfigNames.Parse<BootDevice>(n)!.Value).ToList();
        var serial = new SerialCapture();
        var log = new SerialCapture();
        using var machine = MachineInstance.Create(
            Bios(TestGuests.CdImage("cdboot"), devices, new DiskOptions(TestGuests.BootImage("mbr"), ReadOnly: true)), serial, firmwareLog: log);
        machine.Start();

        await machine.Exited.WaitAsync(BiosTimeout, TestContext.Current.CancellationToken);

        string other = booted == "mbr" ? "cdboot" : "mbr";
        serial.Text.Should().Contain($"PLATFORM-TEST {booted} PASS", $"the log was:\n{log.Text}").And.NotContain($"PLATFORM-TEST {other} START");
    }

    [Fact]
    public async Task An_empty_drive_first_in_the_boot_order_is_passed_over_for_the_disk()
    {
        var serial = new SerialCapture();
        var log = new SerialCapture();
        using var machine = MachineInstance.Create(
            Bios(null, [BootDevice.Cdrom, BootDevice.Disk], new DiskOptions(TestGuests.BootImage("mbr"), ReadOnly: true)), serial, firmwareLog: log);
        machine.Start();

        await machine.Exited.WaitAsync(BiosTimeout, TestContext.Current.CancellationToken);

        serial.Text.Should().Contain("PLATFORM-TEST mbr PASS");
        log.Text.Should().Contain("Device reports MEDIUM NOT PRESENT").And.Contain("Booting from DVD/CD...")
            .And.Contain("Booting from Hard Disk...");
    }

    private static List<string> GuestLines(string output) =>
        [.. output.Split('\n').Select(l => l.TrimEnd('\r'))
            .Where(l => l.StartsWith("cdboot: ", StringComparison.Ordinal) || l.StartsWith("PLATFORM-TEST ", StringComparison.Ordinal))];
}
