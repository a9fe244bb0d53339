using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Vmm;

// platform-vmm as a user runs it: exit codes, messages, and the guest's serial on stdout.
public sealed class VmmProgramTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_guest_that_resets_ends_the_VMM_with_code_2_and_its_serial_on_stdout()
    {
        var (code, stdout, _) = await VmmProcess.RunAsync(Timeout, "--kernel", TestGuests.Path("reset"), "--memory", "64M");
        code.Should().Be(2);
        stdout.Should().Contain("PLATFORM-TEST reset PASS");
    }

    [Fact]
    public async Task A_config_file_describes_the_machine()
    {
        string config = Path.Combine(Path.GetTempPath(), $"vm-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(config, $$"""
            { "kernel": "{{TestGuests.Path("smp")}}", "cpus": 2, "memory_mib": 64, "cmdline": "cpus=2" }
            """, TestContext.Current.CancellationToken);
        try
        {
            var (code, stdout, _) = await VmmProcess.RunAsync(Timeout, "--config", config);
            code.Should().Be(2, "the smp guest resets after its verdict");
            stdout.Should().Contain("smp: 2 CPUs").And.Contain("PLATFORM-TEST smp PASS");
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Theory]
    [InlineData("not a kernel at all", "neither a bzImage")]
    [InlineData("", "is empty")]
    public async Task A_bad_kernel_file_fails_to_start_with_a_reason(string content, string reason)
    {
        string kernel = Path.GetTempFileName();
        await File.WriteAllTextAsync(kernel, content + new string('x', content.Length > 0 ? 1000 : 0), TestContext.Current.CancellationToken);
        try
        {
            var (code, _, stderr) = await VmmProcess.RunAsync(Timeout, "--kernel", kernel, "--memory", "64M");
            code.Should().Be(1);
            stderr.Should().Contain(reason);
        }
        finally
        {
            File.Delete(kernel);
        }
    }

    [Theory]
    [InlineData("--cpus", "17")]
    [InlineData("--memory", "12Q")]
    [InlineData("--bogus", "1")]
    [InlineData("--serial", "tcp")]
    [InlineData("--serial", "socket")]
    [InlineData("--disk", "disk.img,cache=unsafe")]
    [InlineData("--disk", ",ro")]
    [InlineData("--net", "mac=52:54:00:12:34:56")]
    [InlineData("--net", "tap=tap0,mac=ff:ff:ff:ff:ff:ff")]
    public async Task Usage_errors_exit_64_and_name_the_problem(string option, string value)
    {
        var (code, _, stderr) = await VmmProcess.RunAsync(Timeout, "--kernel", TestGuests.Path("hello"), option, value);
        code.Should().Be(64);
        stderr.Should().StartWith("platform-vmm: ").And.Contain("--help");
    }

    [Fact]
    public async Task A_missing_disk_image_is_a_start_failure_that_names_it()
    {
        var (code, _, stderr) = await VmmProcess.RunAsync(Timeout, "--kernel", TestGuests.Path("hello"), "--disk", "/nonexistent/disk.img");
        code.Should().Be(1);
        stderr.Should().Contain("/nonexistent/disk.img");
    }

    [Fact]
    public async Task Disks_from_the_config_file_and_the_command_line_are_attached_in_that_order()
    {
        using var first = new DiskImage(1 << 20);
        using var second = new DiskImage(1 << 20);
        string config = Path.Combine(Path.GetTempPath(), $"vm-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(config, $$"""
            { "kernel": "{{TestGuests.Path("blk")}}", "memory_mib": 64, "cmdline": "disk=1 seed=0x42 count=4",
              "disks": [ { "path": "{{first.Path}}", "read_only": true, "serial": "from-file" } ], "rng": true }
            """, TestContext.Current.CancellationToken);
        try
        {
            var (code, stdout, stderr) = await VmmProcess.RunAsync(Timeout, "--config", config, "--disk", $"{second.Path},cache=none,serial=from-cli");
            code.Should().Be(2, stderr);
            stdout.Should().Contain("blk: disk 1 at 00:02.0").And.Contain("blk: serial 'from-cli'").And.Contain("PLATFORM-TEST blk PASS");
            second.FirstSectorWithoutPattern(0x42, 0, 4).Should().Be(-1);
            first.ReadSectors(0, 4).Should().OnlyContain(b => b == 0);
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Fact]
    public async Task A_config_file_takes_any_path_and_its_mistakes_are_named_by_field()
    {
        string folder = Directory.CreateTempSubdirectory("vm-config-").FullName;
        try
        {
            // A path the old "--disk path,ro" form could not carry: commas, an equals sign, spaces.
            string odd = Path.Combine(folder, "data, ro,cache=none disk.img");
            using (var image = File.Create(odd))
            {
                image.SetLength(1 << 20);
            }

            string config = Path.Combine(folder, "vm.json");
            await File.WriteAllTextAsync(config, VmConfigFile.Serialize(new VmConfig
            {
                Kernel = TestGuests.Path("blk"), MemoryMiB = 64, CommandLine = "disk=0 seed=0x42 count=4", Disks = [new DiskConfig(odd)],
            }), TestContext.Current.CancellationToken);
            var (code, stdout, stderr) = await VmmProcess.RunAsync(Timeout, "--config", config);
            code.Should().Be(2, stderr);
            stdout.Should().Contain("PLATFORM-TEST blk PASS");
            new FileInfo(odd).Length.Should().Be(1 << 20);
            BitConverter.ToUInt64(File.ReadAllBytes(odd), 8).Should().Be(DiskImage.Pattern(0x42, 0, 1), "the guest wrote its pattern through the odd path");

            await File.WriteAllTextAsync(config, """
                { "kernel": "/k", "cpus": 0, "disks": [ { "path": "/d", "serial": "far-too-long-for-virtio-blk" } ] }
                """, TestContext.Current.CancellationToken);
            (code, _, stderr) = await VmmProcess.RunAsync(Timeout, "--config", config);
            code.Should().Be(64);
            stderr.Should().Contain("cpus: must be 1 to 16 (got 0)").And.Contain("disks[0].serial: must be 1 to 20")
                .And.NotContain("--cpus", "a file's mistakes are named by its fields, not by options");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Missing_kernel_file_is_a_start_failure()
    {
        var (code, _, stderr) = await VmmProcess.RunAsync(Timeout, "--kernel", "/nonexistent/kernel");
        code.Should().Be(1);
        stderr.Should().Contain("does not exist");
    }

    [Fact]
    public async Task Check_reports_the_kvm_kind_and_capabilities()
    {
        var (code, stdout, _) = await VmmProcess.RunAsync(Timeout, "--check");
        code.Should().Be(0);
        stdout.Should().MatchRegex("kvm: (hardware|pvm)").And.Contain("KVM_CAP_Irqchip: yes");
    }

    [Fact]
    public async Task Check_with_disks_prints_each_format_virtual_size_and_backing_chain()
    {
        string dir = Directory.CreateTempSubdirectory("check-").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(dir, "base.raw"), new byte[2 << 20]);
            Platform.Devices.Virtio.Block.Qcow2.Qcow2Creator.Create(Path.Combine(dir, "top.qcow2"), 4 << 20, "base.raw");
            string config = Path.Combine(dir, "vm.json");
            await File.WriteAllTextAsync(config, $$"""
                { "kernel": "k", "disks": [ { "path": "{{Path.Combine(dir, "top.qcow2")}}", "format": "qcow2" } ] }
                """, TestContext.Current.CancellationToken);

            var (code, stdout, _) = await VmmProcess.RunAsync(Timeout, "--check", "--config", config, "--disk", Path.Combine(dir, "base.raw"));
            stdout.Should().MatchRegex(@"disk0: \S*top.qcow2: qcow2 v3, cluster 64 KiB, virtual size 4 MiB");
            stdout.Should().MatchRegex(@"disk0: backing: \S*base.raw: raw, virtual size 2 MiB");
            stdout.Should().MatchRegex(@"disk1: \S*base.raw: raw");
            code.Should().Be(0, "every disk opened and this host's KVM has what it needs (Check_reports_the_kvm_kind_and_capabilities)");

            File.WriteAllBytes(Path.Combine(dir, "bad.qcow2"), [0x51, 0x46, 0x49, 0xFB, 0, 0, 0, 9, .. new byte[100]]);
            (code, stdout, _) = await VmmProcess.RunAsync(Timeout, "--check", "--disk", Path.Combine(dir, "bad.qcow2"));
            code.Should().Be(1);
            stdout.Should().Contain("disk0: error: ").And.Contain("version 9 is not supported");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_corrupt_qcow2_image_is_a_start_failure_that_says_why()
    {
        string image = Path.Combine(Path.GetTempPath(), $"corrupt-{Guid.NewGuid():N}.qcow2");
        Platform.Devices.Virtio.Block.Qcow2.Qcow2Creator.Create(image, 1 << 20);
        using (var file = File.OpenHandle(image, FileMode.Open, FileAccess.Write))
        {
            RandomAccess.Write(file, new byte[] { 0, 0, 0, 0, 0x7F, 0, 0, 0 }, 40); // the L1 table far past the end
        }

        try
        {
            var (code, _, stderr) = await VmmProcess.RunAsync(Timeout, "--kernel", TestGuests.Path("hello"), "--disk", image);
            code.Should().Be(1);
            stderr.Should().Contain(image).And.Contain("L1 table").And.Contain("qemu-img check");
        }
        finally
        {
            File.Delete(image);
        }
    }
}
