using Platform.Web.Data;
using Platform.Web.Services.Vms;

namespace Platform.Web.Tests.Services.Vms;

public sealed class VmDefinitionRulesTests
{
    private const long HostMiB = 8192;

    private static VmDefinitionInput Valid() => new() { Name = "web", KernelPath = "/boot/vmlinuz", MemoryMiB = 512, VcpuCount = 2 };

    [Fact]
    public void A_kernel_boot_with_a_path_passes() => VmDefinitionRules.Validate(Valid(), HostMiB).Should().BeEmpty();

    [Fact]
    public void A_sata_disk_takes_no_io_limits_which_the_vmm_applies_to_virtio_disks_only()
    {
        var input = Valid();
        input.Disks.Add(new VmDiskInput { Path = "/var/lib/vm/win.img", Bus = DiskBus.Sata, MaxBytesPerSecond = 1 << 20, MaxIops = 100 });
        var errors = VmDefinitionRules.Validate(input, HostMiB);
        errors["disks[0].maxBytesPerSecond"].Should().Equal("I/O limits apply to virtio disks only: clear it, or put this disk on virtio.");
        errors["disks[0].maxIops"].Should().Equal("I/O limits apply to virtio disks only: clear it, or put this disk on virtio.");

        input.Disks[0].Bus = DiskBus.Virtio;
        VmDefinitionRules.Validate(input, HostMiB).Should().BeEmpty("the same limits on a virtio disk are fine");
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, true)]
    [InlineData(16, true)]
    [InlineData(17, false)]
    public void Vcpus_are_1_to_16(int vcpus, bool valid)
    {
        var input = Valid();
        input.VcpuCount = vcpus;
        VmDefinitionRules.Validate(input, HostMiB).ContainsKey("vcpuCount").Should().Be(!valid);
    }

    [Theory]
    [InlineData(15, "at least 16 MiB")]
    [InlineData(8193, "This host has 8192 MiB")]
    public void Memory_is_at_least_16_MiB_and_at_most_the_hosts(int memory, string reason)
    {
        var input = Valid();
        input.MemoryMiB = memory;
        VmDefinitionRules.Validate(input, HostMiB)["memoryMiB"].Should().ContainSingle().Which.Should().Contain(reason);
        input.MemoryMiB = 8192;
        VmDefinitionRules.Validate(input, HostMiB).Should().BeEmpty();
    }

    [Theory]
    [InlineData(true, null, null)]
    [InlineData(true, InputKind.Virtio, null)]
    [InlineData(true, InputKind.Ps2, null)]
    [InlineData(false, null, null)]
    [InlineData(false, InputKind.Virtio, "come with the display")]
    [InlineData(false, InputKind.Ps2, "come with the display")]
    [InlineData(true, (InputKind)7, "virtio (tablet and keyboard) or ps2")]
    public void Input_devices_are_only_given_with_a_display(bool display, InputKind? input, string? problem)
    {
        var definition = Valid();
        definition.DisplayEnabled = display;
        definition.Input = input;
        var errors = VmDefinitionRules.Validate(definition, HostMiB);
        if (problem is null)
        {
            errors.Should().BeEmpty();
        }
        else
        {
            errors.Should().ContainKey("input").WhoseValue.Should().ContainSingle().Which.Should().Contain(problem);
        }
    }

    [Fact]
    public void The_on_crash_policy_is_stay_or_restart()
    {
        var input = Valid();
        input.OnCrash = CrashPolicy.Restart;
        VmDefinitionRules.Validate(input, HostMiB).Should().BeEmpty();
        input.OnCrash = (CrashPolicy)9;
        VmDefinitionRules.Validate(input, HostMiB)["onCrash"].Should().ContainSingle().Which.Should().Contain("stay (crashed) or restart");
    }

    [Fact]
    public void A_kernel_boot_needs_exactly_one_of_library_kernel_and_path()
    {
        var input = Valid();
        input.KernelPath = null;
        VmDefinitionRules.Validate(input, HostMiB)["kernel"].Single().Should().Contain("Choose a kernel");
        input.KernelPath = "/boot/vmlinuz";
        input.KernelImageId = Guid.NewGuid();
        VmDefinitionRules.Validate(input, HostMiB)["kernel"].Single().Should().Contain("not both");
        input.KernelPath = "boot/vmlinuz";
        input.KernelImageId = null;
        VmDefinitionRules.Validate(input, HostMiB)["kernel"].Single().Should().Contain("absolute path");
    }

    [Fact]
    public void A_disk_boot_needs_a_disk_and_ignores_the_kernel()
    {
        var input = Valid();
        input.KernelPath = null;
        input.BootMode = BootMode.Disk;
        VmDefinitionRules.Validate(input, HostMiB)["disks"].Single().Should().Contain("at least one disk");
        input.Disks.Add(new VmDiskInput { Path = "/var/lib/vm/root.img" });
        VmDefinitionRules.Validate(input, HostMiB).Should().BeEmpty();
        input.CommandLine = "quiet\nsingle";
        VmDefinitionRules.Validate(input, HostMiB).Keys.Should().Equal(["commandLine"], "a disk boot's extra arguments are checked too");
    }

    [Fact]
    public void Each_disk_names_an_image_or_an_absolute_one_line_path()
    {
        var input = Valid();
        input.Disks.Add(new VmDiskInput());
        input.Disks.Add(new VmDiskInput { Path = "/data/a\nb.img" });
        input.Disks.Add(new VmDiskInput { Path = "/data/ok.img", ImageId = Guid.NewGuid() });
        input.Disks.Add(new VmDiskInput { Path = "/data/ok.img", ReadOnly = true, Cache = DiskCacheMode.None });
        input.Disks.Add(new VmDiskInput { Path = "/data/a,ro.img" });
        input.Disks.Add(new VmDiskInput { Path = "data/relative.img" });
        var errors = VmDefinitionRules.Validate(input, HostMiB);
        errors["disks[0]"].Single().Should().Contain("Choose a disk image");
        errors["disks[1]"].Single().Should().Contain("control characters");
        errors["disks[2]"].Single().Should().Be("Choose one of a library disk image, a host path or a new blank disk.");
        errors.Should().NotContainKey("disks[3]");
        errors.Should().NotContainKey("disks[4]", "the path travels in vm.json, where ',' separates nothing");
        errors["disks[5]"].Single().Should().Contain("absolute");
    }

    [Fact]
    public void A_nic_is_on_a_network_or_a_tap_device_and_its_forwards_are_sound_and_distinct()
    {
        var input = Valid();
        input.Nics.Add(VmNicInput.OnDefaultNetwork());
        input.Nics.Add(new VmNicInput());
        input.Nics.Add(new VmNicInput { NetworkId = Network.DefaultId, TapName = "tap0" });
        input.Nics.Add(new VmNicInput { TapName = "tap1", PortForwards = [new VmPortForward { HostPort = 3333, GuestPort = 22 }] });
        input.Nics.Add(new VmNicInput
        {
            NetworkId = Network.DefaultId,
            PortForwards =
            [
                new VmPortForward { HostPort = 2222, GuestPort = 22 },
                new VmPortForward { HostPort = 0, GuestPort = 22 },
                new VmPortForward { HostAddress = "my-host", HostPort = 8080, GuestPort = 80 },
                new VmPortForward { HostPort = 8081, GuestPort = 65536 },
                new VmPortForward { Protocol = ForwardProtocol.Udp, HostPort = 2222, GuestPort = 22 },
            ],
        });
        input.Nics.Add(new VmNicInput { NetworkId = Network.DefaultId, PortForwards = [new VmPortForward { HostAddress = "127.0.0.1", HostPort = 2222, GuestPort = 23 }] });

        var errors = VmDefinitionRules.Validate(input, HostMiB);

        errors.Keys.Should().BeEquivalentTo(
            "nics[1].networkId", "nics[2].networkId", "nics[3].portForwards", "nics[4].portForwards[1].hostPort",
            "nics[4].portForwards[2].hostAddress", "nics[4].portForwards[3].guestPort", "nics[5].portForwards[0].hostPort");
        errors["nics[1].networkId"].Single().Should().Be("Choose a network.");
        errors["nics[2].networkId"].Single().Should().Contain("not both");
        errors["nics[3].portForwards"].Single().Should().Contain("NAT network");
        errors["nics[5].portForwards[0].hostPort"].Single().Should().Be("tcp 127.0.0.1:2222 is forwarded already (nics[4].portForwards[0]).",
            "UDP 2222 is another host end, TCP 2222 twice is not");
    }

    [Fact]
    public void Nics_need_valid_distinct_tap_names_and_distinct_valid_macs()
    {
        var input = Valid();
        input.Nics.Add(new VmNicInput { TapName = "tap0", MacAddress = "52:54:00:00:00:01" });
        input.Nics.Add(new VmNicInput { TapName = "tap0", MacAddress = "52:54:00:00:00:01" });
        input.Nics.Add(new VmNicInput { TapName = "a-very-long-tap-name" });
        input.Nics.Add(new VmNicInput { TapName = "tap3", MacAddress = "01:00:00:00:00:01" });
        input.Nics.Add(new VmNicInput { TapName = "tap4" });
        var errors = VmDefinitionRules.Validate(input, HostMiB);
        errors.Keys.Should().BeEquivalentTo("nics[1].tapName", "nics[1].macAddress", "nics[2].tapName", "nics[3].macAddress");
        errors["nics[2].tapName"].Single().Should().Contain("at most 15");
    }

    [Fact]
    public void Name_description_and_command_line_are_checked()
    {
        var input = Valid();
        input.Name = "bad name";
        input.Description = new string('x', 1025);
        input.CommandLine = "console=ttyS0\nroot=/dev/vda";
        VmDefinitionRules.Validate(input, HostMiB).Keys.Should().BeEquivalentTo("name", "description", "commandLine");
    }
}
