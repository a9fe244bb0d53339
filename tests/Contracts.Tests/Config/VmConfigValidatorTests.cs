namespace Platform.Contracts.Tests.Config;

/// <summary>Every problem the validator knows, each naming its field as vm.json spells it.</summary>
public sealed class VmConfigValidatorTests
{
    private static readonly VmConfig Valid = new() { Kernel = "/k" };

    private static readonly VmConfig Bios = new() { Firmware = FirmwareKind.Bios, Disks = [new DiskConfig("/d")] };

    private static IReadOnlyList<ConfigProblem> Problems(VmConfig config) => VmConfigValidator.Validate(config);

    [Fact]
    public void A_complete_configuration_has_no_problems()
    {
        Problems(Valid).Should().BeEmpty();
        Problems(Bios).Should().BeEmpty();
        Problems(new VmConfig { Firmware = FirmwareKind.Bios, Bios = "/b.bin", FirmwareLog = "/l" }).Should().BeEmpty();
        Problems(Bios with { Cdrom = new CdromConfig("/i.iso"), BootOrder = [BootDevice.Cdrom, BootDevice.Disk] }).Should().BeEmpty();
        Problems(Bios with { Disks = [.. Enumerable.Range(0, 6).Select(i => new DiskConfig($"/s{i}") { Bus = DiskBus.Sata })] })
            .Should().BeEmpty("six SATA disks fill the AHCI controller's six ports");
        Problems(Bios with { Disks = [.. Enumerable.Range(0, 26).Select(i => new DiskConfig($"/d{i}")), new DiskConfig("/s") { Bus = DiskBus.Sata }] })
            .Should().BeEmpty("26 virtio disks, the ISA bridge, the display's three functions and the AHCI controller fill the bus's 31 slots; a SATA disk takes a port, not a slot");
        Problems(Valid with { Cdrom = new CdromConfig() }).Should().BeEmpty("a drive without firmware is there for the kernel's own driver");
        Problems(new VmConfig
        {
            Boot = BootSource.Disk, Disks = [new DiskConfig("/d") { Serial = "01234567890123456789" }],
            Nics = [new NicConfig("tap0"), new NicConfig("tap1") { Mac = "52:54:00:00:00:01" }], Rng = true,
            Vnc = new VncConfig("0.0.0.0:5901") { PasswordFile = "/p" }, Serial = SerialMode.Socket, RuntimeDir = "/run/x",
            Cpus = VmConfigLimits.MaxCpus, MemoryMiB = VmConfigLimits.MinMemoryMiB,
        }).Should().BeEmpty();
    }

    public static TheoryData<VmConfig, string, string> Cases => new()
    {
        { Valid with { Cpus = 0 }, "cpus", "must be 1 to 16 (got 0)" },
        { Valid with { Cpus = 17 }, "cpus", "must be 1 to 16 (got 17)" },
        { Valid with { MemoryMiB = 8 }, "memory_mib", "must be 16 to 67108864 MiB (got 8)" },
        { Valid with { MemoryMiB = int.MaxValue }, "memory_mib", $"must be 16 to 67108864 MiB (got {int.MaxValue})" },
        { Valid with { Kernel = null }, "kernel", "is required when boot is kernel" },
        { Valid with { Kernel = "" }, "kernel", "is required when boot is kernel" },
        { new VmConfig { Boot = BootSource.Disk, Kernel = "/k", Disks = [new DiskConfig("/d")] }, "kernel", "must be left out when boot is disk: the VMM reads the kernel from the disk" },
        { new VmConfig { Boot = BootSource.Disk, Initrd = "/i", Disks = [new DiskConfig("/d")] }, "initrd", "must be left out when boot is disk: the VMM reads the initrd from the disk" },
        { new VmConfig { Boot = BootSource.Disk }, "disks", "boot is disk, so the first disk is booted: give one" },
        { Valid with { Disks = [new DiskConfig("")] }, "disks[0].path", "is required: the image on the host" },
        { Valid with { Disks = [new DiskConfig("/a"), new DiskConfig("/b\0")] }, "disks[1].path", "contains a NUL character" },
        { Valid with { Disks = [new DiskConfig("/a") { Serial = "" }] }, "disks[0].serial", "must be 1 to 20 printable ASCII characters (got \"\")" },
        { Valid with { Disks = [new DiskConfig("/a") { Serial = "012345678901234567890" }] }, "disks[0].serial", "must be 1 to 20 printable ASCII characters (got \"012345678901234567890\")" },
        { Valid with { Disks = [new DiskConfig("/a") { Serial = "é" }] }, "disks[0].serial", "must be 1 to 20 printable ASCII characters (got \"é\")" },
        { Valid with { Disks = [new DiskConfig("/a") { Cache = (DiskCache)7 }] }, "disks[0].cache", "7 is not one of writeback, none" },
        { Valid with { Disks = [new DiskConfig("/a") { Format = (DiskFormat)9 }] }, "disks[0].format", "9 is not one of raw, qcow2" },
        { Valid with { Nics = [new NicConfig("a/b")] }, "nics[0].tap", "'a/b' is not an interface name (1 to 15 characters, no '/', ':' or spaces)" },
        { Valid with { Nics = [new NicConfig("a-very-long-name0")] }, "nics[0].tap", "'a-very-long-name0' is not an interface name (1 to 15 characters, no '/', ':' or spaces)" },
        { Valid with { Nics = [new NicConfig("tap0"), new NicConfig("tap0") { Mac = "52:54:00:00:00:09" }] }, "nics[1].tap", "tap0 is nics[0]'s TAP device too: each NIC needs its own" },
        { Valid with { Nics = [new NicConfig("tap0") { Mac = "01:00:5e:00:00:01" }] }, "nics[0].mac", "'01:00:5e:00:00:01' is not a unicast MAC address (six hex bytes with ':', e.g. 52:54:00:12:34:56)" },
        { Valid with { Nics = [new NicConfig("tap0") { Mac = "52-54-00-00-00-01" }] }, "nics[0].mac", "'52-54-00-00-00-01' is not a unicast MAC address (six hex bytes with ':', e.g. 52:54:00:12:34:56)" },
        { Valid with { Nics = [new NicConfig("tap0") { Mac = "52:54:00:00:00:01" }, new NicConfig("tap1") { Mac = "52:54:00:00:00:01" }] }, "nics[1].mac", "52:54:00:00:00:01 is nics[0]'s address too: each NIC needs its own" },
        { Valid with { Nics = [new NicConfig { Kind = (NicKind)5 }] }, "nics[0].kind", "must be user, tap or bridge" },
        { Valid with { Nics = [new NicConfig { Kind = NicKind.Tap }] }, "nics[0].tap", "the TAP device's name is required" },
        { Valid with { Nics = [new NicConfig { Kind = NicKind.Bridge }] }, "nics[0].bridge", "the bridge's name is required" },
        { Valid with { Nics = [new NicConfig { Bridge = "br0", Vlan = 0 }] }, "nics[0].vlan", "must be a VLAN id from 1 to 4094 (got 0)" },
        { Valid with { Nics = [new NicConfig { Bridge = "br0", Vlan = 4095 }] }, "nics[0].vlan", "must be a VLAN id from 1 to 4094 (got 4095)" },
        { Valid with { Nics = [new NicConfig { Kind = NicKind.User, Vlan = 10 }] }, "nics[0].vlan", "VLAN tags belong to bridge NICs; a user NIC has no bridge port to tag" },
        { Valid with { Nics = [new NicConfig("tap0") { Kind = NicKind.User }] }, "nics[0].tap", "names a TAP device, which a user NIC does not use: leave it out" },
        { Valid with { Nics = [new NicConfig("tap0") { Bridge = "br0" }] }, "nics[0].bridge", "names a bridge, which a tap NIC does not use: leave it out" },
        { Valid with { Nics = [new NicConfig { Bridge = "br0", Forwards = [new PortForwardConfig { HostPort = 2222, GuestPort = 22 }] }] }, "nics[0].forwards", "port forwards belong to user-mode NICs; a bridge NIC's guest is reached on its own address" },
        { Valid with { Nics = [new NicConfig { Forwards = [new PortForwardConfig { HostPort = 0, GuestPort = 22 }] }] }, "nics[0].forwards[0].host_port", "must be 1 to 65535 (got 0)" },
        { Valid with { Nics = [new NicConfig { Forwards = [new PortForwardConfig { HostPort = 2222, GuestPort = 70000 }] }] }, "nics[0].forwards[0].guest_port", "must be 1 to 65535 (got 70000)" },
        { Valid with { Nics = [new NicConfig { Forwards = [new PortForwardConfig { HostAddress = "localhost", HostPort = 2222, GuestPort = 22 }] }] }, "nics[0].forwards[0].host_address", "'localhost' is not an IP address (127.0.0.1, ::1, 0.0.0.0 for every address)" },
        { Valid with { Nics = [new NicConfig { Forwards = [new PortForwardConfig { Protocol = (ForwardProtocol)3, HostPort = 1, GuestPort = 1 }] }] }, "nics[0].forwards[0].protocol", "must be tcp or udp" },
        { Valid with { Nics = [new NicConfig { Forwards = [new PortForwardConfig { HostPort = 2222, GuestPort = 22 }] }, new NicConfig { Mac = "52:54:00:00:00:02", Forwards = [new PortForwardConfig { HostPort = 2222, GuestPort = 80 }] }] }, "nics[1].forwards[0].host_port", "tcp:127.0.0.1:2222-:80 takes the host port nics[0].forwards[0] already forwards" },
        { Valid with { Disks = [.. Enumerable.Range(0, 20).Select(i => new DiskConfig($"/d{i}"))], Nics = [.. Enumerable.Range(0, 9).Select(i => new NicConfig($"tap{i}"))] }, "disks", "at most 31 PCI devices (virtio disks, NICs, the rng, the display and its input devices, with firmware the ISA bridge, and the AHCI controller of a CD-ROM or SATA disks, together; got 32)" },
        { Bios with { Disks = [.. Enumerable.Range(0, 28).Select(i => new DiskConfig($"/d{i}"))] }, "disks", "at most 31 PCI devices (virtio disks, NICs, the rng, the display and its input devices, with firmware the ISA bridge, and the AHCI controller of a CD-ROM or SATA disks, together; got 32)" },
        { Bios with { Disks = [.. Enumerable.Range(0, 27).Select(i => new DiskConfig($"/d{i}")), new DiskConfig("/s") { Bus = DiskBus.Sata }] }, "disks", "at most 31 PCI devices (virtio disks, NICs, the rng, the display and its input devices, with firmware the ISA bridge, and the AHCI controller of a CD-ROM or SATA disks, together; got 32)" },
        { Bios with { Disks = [.. Enumerable.Range(0, 7).Select(i => new DiskConfig($"/s{i}") { Bus = DiskBus.Sata })] }, "disks[6].bus", "sata: the AHCI controller has 6 ports, so at most 6 SATA disks fit; put this one on virtio" },
        { Bios with { Cdrom = new CdromConfig(), Disks = [new DiskConfig("/v"), .. Enumerable.Range(0, 6).Select(i => new DiskConfig($"/s{i}") { Bus = DiskBus.Sata })] }, "disks[6].bus", "sata: the AHCI controller has 6 ports and the CD-ROM takes port 0, so at most 5 SATA disks fit; put this one on virtio" },
        { Bios with { Disks = [new DiskConfig("/s") { Bus = DiskBus.Sata, Bps = 1 << 20 }] }, "disks[0].bps", "I/O limits apply to virtio disks only: a SATA disk is not throttled (leave them out, or use bus virtio)" },
        { Bios with { Disks = [new DiskConfig("/s") { Bus = DiskBus.Sata, Iops = 100 }] }, "disks[0].iops", "I/O limits apply to virtio disks only: a SATA disk is not throttled (leave them out, or use bus virtio)" },
        { Valid with { Disks = [new DiskConfig("/a") { Bus = (DiskBus)4 }] }, "disks[0].bus", "4 is not one of virtio, sata" },
        { new VmConfig { Boot = BootSource.Disk, Disks = [new DiskConfig("/d") { Bus = DiskBus.Sata }] }, "disks[0].bus", "sata: boot disk loads the kernel from the first disk for a guest that finds its root on virtio-blk; put the first disk on virtio, or boot a SATA disk with firmware bios" },
        { Bios with { Kernel = "/k" }, "kernel", "must be left out: with firmware bios the BIOS boots from the disks" },
        { Bios with { Initrd = "/i" }, "initrd", "must be left out: with firmware bios the BIOS boots from the disks" },
        { Bios with { CommandLine = "quiet" }, "cmdline", "must be left out: with firmware bios the BIOS boots from the disks, and the boot loader on the disk gives the kernel its command line" },
        { Bios with { Boot = BootSource.Disk }, "boot", "disk makes the VMM read the kernel from the disk itself; with firmware bios the BIOS boots from the disks: leave boot out" },
        { Bios with { Bios = "" }, "bios", "is empty: name the BIOS image, or leave it out for Debian's SeaBIOS (/usr/share/seabios/bios.bin)" },
        { Bios with { FirmwareLog = "/l\0" }, "firmware_log", "contains a NUL character" },
        { Valid with { Bios = "/b.bin" }, "bios", "names the BIOS image that firmware bios runs: set firmware to bios, or leave it out" },
        { Valid with { FirmwareLog = "/l" }, "firmware_log", "gets the firmware's debug output: set firmware to bios, or leave it out" },
        { Valid with { Firmware = (FirmwareKind)5 }, "firmware", "5 is not one of none, bios" },
        { Bios with { Disks = [.. Enumerable.Range(0, 27).Select(i => new DiskConfig($"/d{i}"))], Cdrom = new CdromConfig() }, "disks", "at most 31 PCI devices (virtio disks, NICs, the rng, the display and its input devices, with firmware the ISA bridge, and the AHCI controller of a CD-ROM or SATA disks, together; got 32)" },
        { Bios with { Cdrom = new CdromConfig("") }, "cdrom.path", "is empty: name the ISO image, or leave path out for an empty drive" },
        { Bios with { Cdrom = new CdromConfig("/a\0.iso") }, "cdrom.path", "contains a NUL character" },
        { Valid with { Cdrom = new CdromConfig(), BootOrder = [BootDevice.Cdrom] }, "boot_order", "is the order the BIOS boots devices in: set firmware to bios, or leave it out" },
        { Bios with { BootOrder = [] }, "boot_order", "is empty: name cdrom, disk or both, or leave it out" },
        { Bios with { BootOrder = [BootDevice.Cdrom, BootDevice.Disk] }, "boot_order[0]", "names cdrom, but the VM has no CD-ROM drive: add one (cdrom) or leave cdrom out" },
        { Bios with { Disks = [], Cdrom = new CdromConfig(), BootOrder = [BootDevice.Disk, BootDevice.Cdrom] }, "boot_order[0]", "names disk, but the VM has no disks: add one or leave disk out" },
        { Bios with { Cdrom = new CdromConfig(), BootOrder = [BootDevice.Cdrom, BootDevice.Cdrom] }, "boot_order[1]", "names cdrom twice" },
        { Bios with { BootOrder = [(BootDevice)7] }, "boot_order[0]", "7 is not one of disk, cdrom" },
        { Valid with { Display = DisplayKind.None, Input = InputKind.Ps2 }, "input", "chooses the display's input devices: leave it out when display is none" },
        { Valid with { Display = DisplayKind.None, Vnc = new VncConfig("127.0.0.1:5901") }, "vnc", "serves the display: leave it out when display is none" },
        { Valid with { Vnc = new VncConfig("5901") }, "vnc.listen", "needs ADDR:PORT, e.g. 127.0.0.1:5901 (got \"5901\")" },
        { Valid with { Vnc = new VncConfig("::1:5901") }, "vnc.listen", "write an IPv6 address in brackets, e.g. [::1]:5901 (got \"::1:5901\")" },
        { Valid with { Vnc = new VncConfig("vnc.example:5901") }, "vnc.listen", "\"vnc.example\" is not an IP address (names other than localhost are not looked up)" },
        { Valid with { Vnc = new VncConfig("0.0.0.0:5901") }, "vnc.password_file", "is required: 0.0.0.0:5901 is not a loopback address, and anyone who reaches the port would control the VM (or listen on 127.0.0.1)" },
        { Valid with { Vnc = new VncConfig("127.0.0.1:5901") { PasswordFile = "" } }, "vnc.password_file", "is empty: name the file, or leave it out" },
        { Valid with { Serial = SerialMode.Socket }, "serial", "socket puts the console on serial.sock in the runtime folder: give runtime_dir" },
        { Valid with { RuntimeDir = "" }, "runtime_dir", "is empty: name a folder, or leave it out" },
        { Valid with { RuntimeDir = "/" + new string('r', 94) }, "runtime_dir", "is 95 bytes long; socket paths allow a folder of at most 94: choose a shorter one" },
        { Valid with { CommandLine = "a\0b" }, "cmdline", "contains a NUL character" },
        { Valid with { Boot = (BootSource)5 }, "boot", "5 is not one of kernel, disk" },
        { Valid with { OnReboot = (RebootPolicy)5 }, "on_reboot", "5 is not one of exit, restart" },
        { Valid with { Display = (DisplayKind)5 }, "display", "5 is not one of none, std" },
        { Valid with { Input = (InputKind)5 }, "input", "5 is not one of virtio, ps2" },
        { Valid with { Serial = (SerialMode)5, RuntimeDir = "/r" }, "serial", "5 is not one of stdio, socket, none" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_problem_names_its_field(VmConfig config, string field, string message)
    {
        Problems(config).Should().ContainSingle().Which.Should().Be(new ConfigProblem(field, message));
    }

    [Fact]
    public void Every_problem_is_reported_not_just_the_first()
    {
        var problems = Problems(new VmConfig { Cpus = 0, MemoryMiB = 1, Disks = [new DiskConfig("")] });

        problems.Select(p => p.Field).Should().Equal("cpus", "memory_mib", "kernel", "disks[0].path");
        problems[0].ToString().Should().Be("cpus: must be 1 to 16 (got 0)");
    }

    [Fact]
    public void Default_addresses_count_when_checking_for_twins()
    {
        string derived = NicMac.Format(NicMac.Default("tap0"));

        Problems(Valid with { Nics = [new NicConfig("tap0"), new NicConfig("tap1") { Mac = derived }] })
            .Should().ContainSingle().Which.Field.Should().Be("nics[1].mac");
    }
}
