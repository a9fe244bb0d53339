using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Vmm;

// platform-vmm --firmware bios as a user runs it: a BIOS it cannot run is a start failure that says why.
public sealed class VmmFirmwareTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task The_MBR_guest_says_the_same_under_platform_vmm_and_QEMU_pc()
    {
        string image = TestGuests.BootImage("mbr");

        var ours = await VmmProcess.RunAsync(Timeout, "--firmware", "bios", "--display", "none", "--memory", "128M", "--disk", $"{image},ro");
        var qemu = await QemuPc.BootDiskAsync(image, memoryMiB: 128, Timeout);

        ours.ExitCode.Should().Be(2, "the guest resets at the end and --on-reboot exit ends the VMM");
        qemu.ExitCode.Should().Be(0, qemu.Stderr);
        var ourLines = GuestLines(ours.Stdout);
        ourLines.Should().Contain("PLATFORM-TEST mbr PASS", ours.Stdout);
        ourLines.Should().Equal(GuestLines(qemu.Stdout), $"ours:\n{ours.Stdout}\nQEMU's:\n{qemu.Stdout}");
        ours.Stdout.Should().Contain("SeaBIOS (version").And.Contain("Booting from Hard Disk...");
    }

    /// <summary>
    /// What the guest printed, without SeaBIOS's own lines and without the memory map above 1 MiB, which differs on
    /// purpose: QEMU reserves KVM's real-mode pages at 0xFEFFC000 and SeaBIOS keeps more at the top of RAM for the ACPI
    /// tables QEMU gives it; we reserve those pages at 0xFFFBC000 and give no tables yet. Below 1 MiB the maps agree.
    /// </summary>
    private static List<string> GuestLines(string output) =>
        [.. output.Split('\n').Select(l => l.TrimEnd('\r'))
            .Where(l => l.StartsWith("mbr: ", StringComparison.Ordinal) || l.StartsWith("PLATFORM-TEST ", StringComparison.Ordinal))
            .Where(l => !l.StartsWith("mbr: e820 0", StringComparison.Ordinal) || Convert.ToUInt64(l[10..26], 16) < 0x10_0000)];

    [Fact]
    public async Task The_CD_guest_boots_from_cdrom_under_platform_vmm_as_under_QEMUs_AHCI()
    {
        string iso = TestGuests.CdImage("cdboot");

        var ours = await VmmProcess.RunAsync(Timeout, "--firmware", "bios", "--display", "none", "--memory", "128M", "--cdrom", iso,
            "--disk", $"{TestGuests.BootImage("mbr")},ro", "--boot-order", "cdrom,disk");
        var qemu = await QemuPc.BootCdromAsync(iso, memoryMiB: 128, Timeout);

        ours.ExitCode.Should().Be(2, ours.Stderr);
        qemu.ExitCode.Should().Be(0, qemu.Stderr);
        var ourLines = CdLines(ours.Stdout);
        ourLines.Should().Contain("PLATFORM-TEST cdboot PASS", ours.Stdout);
        ourLines.Should().Equal(CdLines(qemu.Stdout), $"ours:\n{ours.Stdout}\nQEMU's:\n{qemu.Stdout}");
        ours.Stdout.Should().Contain("Booting from DVD/CD...");
    }

    private static List<string> CdLines(string output) =>
        [.. output.Split('\n').Select(l => l.TrimEnd('\r'))
            .Where(l => l.StartsWith("cdboot: ", StringComparison.Ordinal) || l.StartsWith("PLATFORM-TEST ", StringComparison.Ordinal))];

    [Fact]
    public async Task A_CD_image_that_is_not_ISO_9660_fails_the_start_with_exit_code_1()
    {
        string image = TestGuests.BootImage("mbr");

        var (code, _, stderr) = await VmmProcess.RunAsync(Timeout, "--firmware", "bios", "--display", "none", "--cdrom", image);

        code.Should().Be(1);
        stderr.Should().Contain($"The CD-ROM image '{image}' is not an ISO 9660 image");
    }

    [Fact]
    public async Task A_boot_order_naming_a_drive_the_VM_lacks_is_a_usage_error()
    {
        var (code, _, stderr) = await VmmProcess.RunAsync(Timeout, "--firmware", "bios", "--display", "none", "--boot-order", "cdrom");

        code.Should().Be(64);
        stderr.Should().Contain("--boot-order (boot_order[0]): names cdrom, but the VM has no CD-ROM drive");
    }

    [Fact]
    public async Task A_missing_BIOS_image_fails_the_start_with_exit_code_1()
    {
        var (code, _, stderr) = await VmmProcess.RunAsync(Timeout, "--firmware", "bios", "--bios", "/nonexistent/bios.bin", "--display", "none");

        code.Should().Be(1);
        stderr.Should().Contain("The BIOS image /nonexistent/bios.bin does not exist.");
    }

    [Fact]
    public async Task A_corrupt_BIOS_image_fails_the_start_with_exit_code_1()
    {
        string bios = Path.GetTempFileName();
        await File.WriteAllTextAsync(bios, "<html>404 Not Found</html>", TestContext.Current.CancellationToken);
        try
        {
            var (code, _, stderr) = await VmmProcess.RunAsync(Timeout, "--firmware", "bios", "--bios", bios, "--display", "none");

            code.Should().Be(1);
            stderr.Should().Contain($"The BIOS image {bios} is 26 bytes; a BIOS image is a whole number of 64 KiB");
        }
        finally
        {
            File.Delete(bios);
        }
    }

    [Fact]
    public async Task A_kernel_with_firmware_is_a_usage_error_naming_both()
    {
        var (code, _, stderr) = await VmmProcess.RunAsync(Timeout, "--firmware", "bios", "--kernel", "/k");

        code.Should().Be(64);
        stderr.Should().Contain("--kernel (kernel): must be left out: with firmware bios the BIOS boots from the disks");
    }
}
