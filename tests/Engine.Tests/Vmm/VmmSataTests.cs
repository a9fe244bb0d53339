using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Vmm;

// platform-vmm --disk PATH,bus=sata as a user runs it: SeaBIOS boots the disk from the AHCI controller, and a disk
// the controller has no port for is a usage error naming the field.
public sealed class VmmSataTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task The_MBR_guest_boots_from_a_SATA_disk_under_platform_vmm()
    {
        string image = TestGuests.BootImage("mbr");
        string log = Path.Combine(Path.GetTempPath(), $"sata-bios-{Guid.NewGuid():N}.log");
        try
        {
            var ours = await VmmProcess.RunAsync(Timeout, "--firmware", "bios", "--display", "none", "--memory", "128M",
                "--firmware-log", log, "--disk", $"{image},ro,bus=sata");

            ours.ExitCode.Should().Be(2, $"the guest resets at the end and --on-reboot exit ends the VMM; stderr:\n{ours.Stderr}");
            ours.Stdout.Should().Contain("PLATFORM-TEST mbr PASS").And.Contain("mbr: booted from drive 0x80").And.Contain("Booting from Hard Disk...");
            File.ReadAllText(log).Should().Contain("AHCI/0: registering: \"AHCI/0: Platform HARDDISK");
        }
        finally
        {
            File.Delete(log);
        }
    }

    [Fact]
    public async Task A_SATA_disk_past_the_AHCI_controllers_ports_is_a_usage_error_naming_it()
    {
        string image = TestGuests.BootImage("mbr");
        string[] disks = [.. Enumerable.Range(0, 6).SelectMany(_ => new[] { "--disk", $"{image},ro,bus=sata" })];

        var (code, _, stderr) = await VmmProcess.RunAsync(Timeout, ["--firmware", "bios", "--display", "none", "--cdrom", "empty", .. disks]);

        code.Should().Be(64);
        stderr.Should().Contain("--disk (disks[5].bus): sata: the AHCI controller has 6 ports and the CD-ROM takes port 0, so at most 5 SATA disks fit");
    }

    [Fact]
    public async Task An_unknown_bus_is_a_usage_error_listing_the_choices()
    {
        var (code, _, stderr) = await VmmProcess.RunAsync(Timeout, "--firmware", "bios", "--disk", "/d.img,bus=ide");

        code.Should().Be(64);
        stderr.Should().Contain("unknown option 'bus=ide'").And.Contain("bus=virtio, bus=sata");
    }
}
