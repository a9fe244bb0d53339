using Platform.Web.Data;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Supervisor;

namespace Platform.Web.Tests.Services.Supervisor;

/// <summary>The step from a stored VM to the vm.json platform-vmm runs: typed values, no strings parsed back.</summary>
public sealed class VmmConfigBuilderTests : IDisposable
{
    private readonly string _kernel = Path.GetTempFileName();

    public void Dispose() => File.Delete(_kernel);

    private VmConfig Build(bool display, InputKind? input) => VmmConfigBuilder.Build(
        new VirtualMachine { Name = "cli", KernelPath = _kernel, DisplayEnabled = display, Input = input },
        _ => throw new InvalidOperationException("no library images here"), "/run/vm");

    [Theory]
    [InlineData(InputKind.Virtio, InputKind.Virtio)]
    [InlineData(InputKind.Ps2, InputKind.Ps2)]
    [InlineData(null, null)] // a row stored before the setting existed: the VMM's default (virtio), as platform-vmm did then
    public void A_vm_with_a_display_says_which_input_devices_it_has(InputKind? input, InputKind? expected)
    {
        var config = Build(display: true, input);
        config.Display.Should().Be(DisplayKind.Std);
        config.Input.Should().Be(expected);
        config.EffectiveInput.Should().Be(expected ?? InputKind.Virtio);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(InputKind.Ps2)]
    public void A_vm_without_a_display_never_names_input_which_the_validator_would_refuse(InputKind? input)
    {
        var config = Build(display: false, input);
        config.Display.Should().Be(DisplayKind.None);
        config.Input.Should().BeNull();
        VmConfigValidator.Validate(config).Should().BeEmpty();
    }

    [Fact]
    public void The_vm_runs_its_console_on_the_socket_in_its_runtime_folder_with_its_size_as_numbers()
    {
        var vm = new VirtualMachine { Name = "size", KernelPath = _kernel, MemoryMiB = 1536, VcpuCount = 3, OnReboot = RebootPolicy.Restart };

        var config = VmmConfigBuilder.Build(vm, _ => "", "/run/vm");

        config.Should().BeEquivalentTo(new VmConfig
        {
            Kernel = _kernel, MemoryMiB = 1536, Cpus = 3, OnReboot = RebootPolicy.Restart, Serial = SerialMode.Socket,
            RuntimeDir = "/run/vm", Display = DisplayKind.Std, Input = vm.Input,
        });
    }

    [Fact]
    public void A_disks_io_limits_go_to_the_vmm_which_holds_them_and_the_validator_accepts_them()
    {
        var vm = new VirtualMachine
        {
            Name = "throttled", KernelPath = _kernel,
            Disks = [new VmDisk { Path = _kernel, MaxBytesPerSecond = 1 << 20, MaxIops = 200 }, new VmDisk { Position = 1, Path = _kernel }],
        };

        var config = VmmConfigBuilder.Build(vm, _ => "", "/run/vm");

        (config.Disks[0].Bps, config.Disks[0].Iops).Should().Be((1L << 20, 200));
        (config.Disks[1].Bps, config.Disks[1].Iops).Should().Be(((long?)null, (int?)null), "no limit, no throttle");
        VmConfigValidator.Validate(config).Should().BeEmpty();
        VmConfigValidator.Validate(config with { Disks = [new DiskConfig(_kernel) { Bps = 100, Iops = 0 }] }).Select(p => p.Field)
            .Should().BeEquivalentTo(["disks[0].bps", "disks[0].iops"]);
    }

    [Fact]
    public void A_disks_bus_goes_to_the_vmm_and_a_SATA_disk_brings_the_AHCI_controller()
    {
        var vm = new VirtualMachine
        {
            Name = "sata", KernelPath = _kernel,
            Disks = [new VmDisk { Path = _kernel }, new VmDisk { Position = 1, Path = _kernel, Bus = DiskBus.Sata }],
        };

        var config = VmmConfigBuilder.Build(vm, _ => "", "/run/vm");

        config.Disks.Select(d => d.Bus).Should().Equal(DiskBus.Virtio, DiskBus.Sata);
        config.HasAhci.Should().BeTrue();
        VmConfigValidator.Validate(config).Should().BeEmpty();
        System.Text.Json.JsonDocument.Parse(VmConfigFile.Serialize(config)).RootElement.GetProperty("disks")[1].GetProperty("bus").GetString()
            .Should().Be("sata", "vm.json names the bus as platform-vmm reads it");
    }

    [Fact]
    public void A_nic_on_a_nat_network_is_a_user_mode_nic_with_its_forwards_and_one_on_a_bridge_network_joins_the_bridge()
    {
        var nat = new Network { Id = Network.DefaultId, Name = "default", Kind = NetworkKind.Nat };
        var lan = new Network { Name = "lan", Kind = NetworkKind.Bridge, Bridge = "vmbr0", Vlan = 42 };
        var vm = new VirtualMachine
        {
            Name = "nets", KernelPath = _kernel,
            Nics =
            [
                new VmNic
                {
                    Position = 0, NetworkId = nat.Id, Network = nat, MacAddress = "52:54:00:00:00:01",
                    PortForwards = [new VmPortForward { Protocol = ForwardProtocol.Udp, HostAddress = "::1", HostPort = 5353, GuestPort = 53 }],
                },
                new VmNic { Position = 1, NetworkId = lan.Id, Network = lan, MacAddress = "52:54:00:00:00:02" },
                new VmNic { Position = 2, TapName = "tap7", MacAddress = "52:54:00:00:00:03" },
            ],
        };

        var nics = VmmConfigBuilder.Build(vm, _ => "", "/run/vm").Nics;

        nics.Select(n => n.Vlan).Should().Equal(null, 42, null);
        nics.Select(n => (n.EffectiveKind, n.Mac, n.Tap, n.Bridge)).Should().Equal(
            (NicKind.User, "52:54:00:00:00:01", null, null), (NicKind.Bridge, "52:54:00:00:00:02", null, "vmbr0"), (NicKind.Tap, "52:54:00:00:00:03", "tap7", null));
        nics[0].Forwards.Select(f => f.ToString()).Should().Equal("udp:[::1]:5353-:53");
    }

    [Fact]
    public void A_nic_whose_network_is_gone_is_a_start_failure_that_says_what_to_do()
    {
        var vm = new VirtualMachine { Name = "lost", KernelPath = _kernel, Nics = [new VmNic { Position = 0, NetworkId = Guid.NewGuid(), MacAddress = "52:54:00:00:00:01" }] };
        var build = () => VmmConfigBuilder.Build(vm, _ => "", "/run/vm");
        build.Should().Throw<VmRuntimeException>().WithMessage("*NIC 1's network is gone*Edit the VM*");
    }

    [Theory]
    [InlineData(false, null, "console=ttyS0")]
    [InlineData(true, null, null)]
    [InlineData(false, "quiet single", "console=ttyS0 quiet single")]
    [InlineData(true, " quiet ", "quiet")]
    public void A_vm_that_boots_from_its_disk_boots_disk_and_names_no_kernel(bool display, string? commandLine, string? expected)
    {
        var vm = new VirtualMachine
        {
            Name = "disk", BootMode = BootMode.Disk, DisplayEnabled = display, CommandLine = commandLine,
            Disks = [new VmDisk { Position = 0, Path = _kernel, ReadOnly = true }],
        };

        var config = VmmConfigBuilder.Build(vm, _ => throw new InvalidOperationException("no library images here"), "/run/vm");

        config.Boot.Should().Be(BootSource.Disk);
        config.Disks.Should().Equal(new DiskConfig(_kernel) { ReadOnly = true });
        config.Kernel.Should().BeNull();
        config.Initrd.Should().BeNull();
        config.CommandLine.Should().Be(expected, "the VM's arguments are added to the disk's, after the serial console when there is no display");
    }

    [Fact]
    public void A_vm_that_boots_from_a_disk_it_does_not_have_is_refused_with_a_reason()
    {
        var vm = new VirtualMachine { Name = "diskless", BootMode = BootMode.Disk };

        var act = () => VmmConfigBuilder.Build(vm, _ => "", "/run/vm");

        act.Should().Throw<VmRuntimeException>().WithMessage("The VM boots from its first disk but has no disk: edit it and add one.");
    }

    [Fact]
    public void A_path_with_commas_and_spaces_goes_through_as_it_is()
    {
        string odd = Path.Combine(Path.GetTempPath(), $"disk, with=commas,ro {Guid.NewGuid():N}.img");
        File.WriteAllText(odd, "");
        try
        {
            var vm = new VirtualMachine { Name = "odd", KernelPath = _kernel, Disks = [new VmDisk { Position = 0, Path = odd }] };

            var config = VmmConfigBuilder.Build(vm, _ => "", "/run/vm");

            config.Disks.Single().Should().Be(new DiskConfig(odd));
            VmConfigFile.Deserialize(VmConfigFile.Serialize(config)).Disks.Single().Path.Should().Be(odd);
        }
        finally
        {
            File.Delete(odd);
        }
    }

    [Fact]
    public void A_configuration_the_validator_refuses_fails_the_start_naming_the_field()
    {
        var vm = new VirtualMachine
        {
            Name = "twins", KernelPath = _kernel,
            Nics = [new VmNic { Position = 0, TapName = "tap0", MacAddress = "52:54:00:00:00:01" }, new VmNic { Position = 1, TapName = "tap0", MacAddress = "52:54:00:00:00:02" }],
        };

        var act = () => VmmConfigBuilder.Build(vm, _ => "", "/run/vm");

        act.Should().Throw<VmRuntimeException>().WithMessage("*nics[1].tap: tap0 is nics[0]'s TAP device too*");
    }

    [Fact]
    public void Library_disks_carry_their_format_and_a_linked_clone_its_overlay_as_qcow2()
    {
        string baseFile = Path.GetTempFileName();
        try
        {
            var raw = new ImageFile { FileName = "raw.img", Sha256 = "", Kind = ImageKind.Disk, Format = ImageFormat.Raw };
            var cloud = new ImageFile { FileName = "cloud.qcow2", Sha256 = "", Kind = ImageKind.Disk, Format = ImageFormat.Qcow2 };
            var old = new ImageFile { FileName = "old.img", Sha256 = "", Kind = ImageKind.Disk };
            var vm = new VirtualMachine
            {
                Name = "formats", KernelPath = _kernel,
                Disks =
                [
                    new VmDisk { Position = 0, Image = raw, ImageId = raw.Id },
                    new VmDisk { Position = 1, Image = cloud, ImageId = cloud.Id, Cache = DiskCacheMode.None },
                    new VmDisk { Position = 2, Image = old, ImageId = old.Id },
                    new VmDisk { Position = 3, Image = cloud, ImageId = cloud.Id, LinkedClone = true },
                    new VmDisk { Position = 4, Path = _kernel },
                ],
            };

            var config = VmmConfigBuilder.Build(vm, _ => baseFile, "/run/vm", disk => $"/data/disks/{disk.Position}.qcow2");

            config.Disks.Should().Equal(
                new DiskConfig(baseFile) { Format = DiskFormat.Raw },
                new DiskConfig(baseFile) { Cache = DiskCache.None, Format = DiskFormat.Qcow2 },
                new DiskConfig(baseFile), // stored before formats were recorded: platform-vmm detects it
                new DiskConfig("/data/disks/3.qcow2") { Format = DiskFormat.Qcow2 },
                new DiskConfig(_kernel));
            var noClones = () => VmmConfigBuilder.Build(vm, _ => baseFile, "/run/vm");
            noClones.Should().Throw<VmRuntimeException>().WithMessage("*linked clone*");
        }
        finally
        {
            File.Delete(baseFile);
        }
    }
}
