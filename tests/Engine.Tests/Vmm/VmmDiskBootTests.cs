using Platform.Engine.Tests.Boot.Disk;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Vmm;

// platform-vmm --boot disk as a user runs it: what it boots, what --check reports, and the messages when it cannot.
public sealed class VmmDiskBootTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private static readonly BootDisk.Part Root = new(BootDisk.FirstPartitionSector, (40L << 20) / 512);
    private readonly BootDisk _disk = new(48L << 20);
    private readonly GuestTree _tree = new();

    public VmmDiskBootTests()
    {
        _disk.WriteMbr(Root with { Bootable = true });
    }

    public void Dispose()
    {
        _tree.Dispose();
        _disk.Dispose();
    }

    private void FormatWithGrub() => _disk.Format(Root, _tree
        .CopyFile("/boot/vmlinuz-test", TestGuests.Path("hello"))
        .File("/boot/initrd.img-test", "an initrd")
        .File("/boot/grub/grub.cfg", ConfigSamples.DebianGrub().Replace("6.1.0-13-amd64", "test", StringComparison.Ordinal)).Root,
        "-U", ConfigSamples.RootUuid);

    [Fact]
    public async Task Boot_disk_runs_the_guest_named_by_grub_cfg_and_logs_what_it_booted()
    {
        FormatWithGrub();

        var (code, stdout, stderr) = await VmmProcess.RunAsync(Timeout,
            "--boot", "disk", "--disk", _disk.Path, "--append", "console=ttyS0", "--memory", "64M", "--display", "none");

        code.Should().Be(2, "the guest resets after its verdict");
        stdout.Should().Contain($"cmdline: root=UUID={ConfigSamples.RootUuid} ro quiet console=ttyS0").And.Contain("PLATFORM-TEST hello PASS");
        stderr.Should().Contain("platform-vmm: boot 1: disk 0: booting /boot/vmlinuz-test + /boot/initrd.img-test from /dev/vda1 (GRUB /boot/grub/grub.cfg, entry 'Debian GNU/Linux')");
    }

    [Fact]
    public async Task A_qcow2_disk_boots_the_same_way()
    {
        FormatWithGrub();
        string qcow2 = _disk.Path + ".qcow2";
        var (made, output, errors) = QemuImg.Run("convert", "-f", "raw", "-O", "qcow2", _disk.Path, qcow2);
        made.Should().Be(0, output + errors);
        int code;
        string stdout;
        try
        {
            (code, stdout, _) = await VmmProcess.RunAsync(Timeout,
                "--boot", "disk", "--disk", $"{qcow2},format=qcow2,ro", "--memory", "64M", "--display", "none");
        }
        finally
        {
            File.Delete(qcow2);
        }

        code.Should().Be(2);
        stdout.Should().Contain($"cmdline: root=UUID={ConfigSamples.RootUuid} ro quiet").And.Contain("PLATFORM-TEST hello PASS");
    }

    [Fact]
    public async Task A_config_file_boots_from_its_first_disk()
    {
        FormatWithGrub();
        string config = Path.Combine(Path.GetTempPath(), $"vm-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(config, $$"""
            { "boot": "disk", "memory_mib": 64, "display": "none", "disks": [ { "path": "{{_disk.Path}}", "read_only": true } ] }
            """, TestContext.Current.CancellationToken);
        try
        {
            var (code, stdout, _) = await VmmProcess.RunAsync(Timeout, "--config", config);

            code.Should().Be(2);
            stdout.Should().Contain($"cmdline: root=UUID={ConfigSamples.RootUuid} ro quiet\n", "nothing is appended without --append");
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Fact]
    public async Task Check_reports_the_partition_configuration_files_and_command_line()
    {
        FormatWithGrub();

        var (code, stdout, _) = await VmmProcess.RunAsync(Timeout, "--check", "--boot", "disk", "--disk", _disk.Path, "--append", "console=ttyS0");

        code.Should().Be(0);
        stdout.Should().Contain("""
            disk 0: boots from partition 1 (/dev/vda1, ext4)
              found: GRUB /boot/grub/grub.cfg, entry 'Debian GNU/Linux'
            """.ReplaceLineEndings("\n"))
            .And.Contain("  kernel: /boot/vmlinuz-test (")
            .And.Contain("  initrd: /boot/initrd.img-test (9 bytes)")
            .And.Contain($"  command line: root=UUID={ConfigSamples.RootUuid} ro quiet console=ttyS0")
            .And.Contain("  kernel format: ELF (the PVH entry)");
    }

    [Fact]
    public async Task A_disk_with_nothing_bootable_fails_to_start_with_the_reason()
    {
        _disk.Format(Root, _tree.File("/etc/hostname", "vm\n").Root);

        var (code, _, stderr) = await VmmProcess.RunAsync(Timeout, "--boot", "disk", "--disk", _disk.Path, "--memory", "64M");
        var (checkCode, checkOut, _) = await VmmProcess.RunAsync(Timeout, "--check", "--boot", "disk", "--disk", _disk.Path);

        code.Should().Be(1);
        stderr.Should().Contain("platform-vmm: disk 0: no partition with a boot configuration").And.Contain("partition 1: ext4, no boot configuration");
        checkCode.Should().Be(1);
        checkOut.Should().Contain("disk boot: disk 0: no partition with a boot configuration");
    }

    [Theory]
    [InlineData("--kernel (kernel): must be left out when boot is disk: the VMM reads the kernel from the disk", "--boot", "disk", "--kernel", "/k", "--disk", "/d")]
    [InlineData("--disk (disks): boot is disk, so the first disk is booted: give one", "--boot", "disk")]
    [InlineData("--boot must be kernel or disk (got floppy)", "--boot", "floppy")]
    public async Task Disk_boot_usage_mistakes(string message, params string[] args)
    {
        var (code, _, stderr) = await VmmProcess.RunAsync(Timeout, args);

        code.Should().Be(64);
        stderr.Should().Contain(message);
    }
}
