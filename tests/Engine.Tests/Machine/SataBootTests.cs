using Platform.Devices.Virtio.Block;
using Platform.Engine.Machine;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Machine;

// Debian's SeaBIOS boots the kit's MBR guest (tests/guests/boot/mbr.S) from a SATA disk on our AHCI controller, through
// its own AHCI driver's IDENTIFY DEVICE and READ DMA, with QEMU's ICH9 AHCI + ide-hd as the reference for what the
// guest says.
public sealed class SataBootTests
{
    private static readonly TimeSpan BiosTimeout = TimeSpan.FromSeconds(90);

    private static MachineConfig Bios(bool cdrom, params DiskOptions[] disks) => new()
    {
        Firmware = FirmwareKind.Bios,
        MemoryBytes = 128ul << 20,
        Display = DisplayKind.None,
        Disks = disks,
        HasCdrom = cdrom,
        BootOrder = [BootDevice.Disk, BootDevice.Cdrom],
    };

    private static DiskOptions SataMbr() => new(TestGuests.BootImage("mbr"), ReadOnly: true, Bus: DiskInterface.Sata);

    [Fact]
    public async Task SeaBIOS_boots_the_MBR_guest_from_a_SATA_disk_and_it_says_what_it_says_under_QEMUs_AHCI()
    {
        string image = TestGuests.BootImage("mbr");
        var serial = new SerialCapture();
        var log = new SerialCapture();
        using var machine = MachineInstance.Create(Bios(cdrom: false, SataMbr()), serial, firmwareLog: log);
        machine.Start();
        var qemu = QemuPc.BootSataDiskAsync(image, memoryMiB: 128, BiosTimeout);

        var exit = await machine.Exited.WaitAsync(BiosTimeout, TestContext.Current.CancellationToken);
        var reference = await qemu;

        string output = serial.Text;
        exit.Reason.Should().Be(MachineExitReason.Reset, $"the guest resets at its end; it printed:\n{output}\nSeaBIOS logged:\n{log.Text}");
        GuestLines(output).Should().Contain("PLATFORM-TEST mbr PASS", output)
            .And.Contain("mbr: booted from drive 0x80")
            .And.Contain("mbr: int 13h extended read of sectors 1-2: second stage intact")
            .And.Contain("mbr: int 13h drive parameters: sectors 0x00000800 of 0x00000200");
        reference.ExitCode.Should().Be(0, reference.Stderr);
        GuestLines(output).Should().Equal(GuestLines(reference.Stdout), $"ours:\n{output}\nQEMU's:\n{reference.Stdout}");

        int slot = machine.PciDevices.Ahci!.DeviceNumber;
        log.Text.Should().Contain($"AHCI controller at 00:{slot:x2}.0")
            .And.Contain("AHCI/0: registering: \"AHCI/0: Platform HARDDISK ATA-7 Hard-Disk (1 MiBytes)\"")
            .And.Contain($"Searching bootorder for: /pci@i0cf8/*@{slot:x}/drive@0/disk@0")
            .And.Contain("Booting from Hard Disk...");
        var stats = machine.GetDeviceStats().Single(d => d.Name == "disk0");
        stats.Kind.Should().Be("ahci-disk");
        stats.Counters["read_requests"].Should().BeGreaterThanOrEqualTo(2, "the MBR and the guest's extended read");
        stats.Counters["aborted_commands"].Should().Be(1, "SeaBIOS probes with IDENTIFY PACKET DEVICE first, which a disk aborts");
        stats.Counters["bad_commands"].Should().Be(0);
    }

    [Theory]
    [InlineData("disk,cdrom", "mbr")]
    [InlineData("cdrom,disk", "cdboot")]
    public async Task Behind_a_CD_ROM_on_port_0_the_SATA_disk_takes_port_1_and_the_boot_order_chooses_between_them(string order, string booted)
    {
        var serial = new SerialCapture();
        var log = new SerialCapture();
        var config = Bios(cdrom: true, SataMbr()) with
        {
            CdromPath = TestGuests.CdImage("cdboot"),
            BootOrder = [.. order.Split(',').Select(n => VmConfigNames.Parse<BootDevice>(n)!.Value)],
        };
        using var machine = MachineInstance.Create(config, serial, firmwareLog: log);
        machine.Start();

        await machine.Exited.WaitAsync(BiosTimeout, TestContext.Current.CancellationToken);

        int slot = machine.PciDevices.Ahci!.DeviceNumber;
        string other = booted == "mbr" ? "cdboot" : "mbr";
        serial.Text.Should().Contain($"PLATFORM-TEST {booted} PASS", $"SeaBIOS logged:\n{log.Text}").And.NotContain($"PLATFORM-TEST {other} START");
        log.Text.Should().Contain("AHCI/1: registering: \"AHCI/1: Platform HARDDISK")
            .And.Contain($"Searching bootorder for: /pci@i0cf8/*@{slot:x}/drive@1/disk@0");
        machine.PciDevices.SataDisks.Single().Port.Should().Be(1);
        machine.GetDeviceStats().Single(d => d.Name == "disk0").Counters["port"].Should().Be(1);
    }

    /// <summary>
    /// What the guest said, less the e820 map's entries: our memory map differs from QEMU's on purpose (its reserved
    /// ranges are the firmware's and ACPI's, sized per machine), and the firmware tests check it on its own.
    /// </summary>
    private static List<string> GuestLines(string output) =>
        [.. output.Split('\n').Select(l => l.TrimEnd('\r'))
            .Where(l => l.StartsWith("mbr: ", StringComparison.Ordinal) || l.StartsWith("PLATFORM-TEST ", StringComparison.Ordinal))
            .Where(l => !System.Text.RegularExpressions.Regex.IsMatch(l, "^mbr: e820 [0-9a-f]{16} "))];
}
