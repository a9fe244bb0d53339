using System.Text.Json;

namespace Platform.Contracts.Tests.Config;

/// <summary>vm.json as the dashboard writes it and platform-vmm reads it.</summary>
public sealed class VmConfigFileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("vm-config-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static readonly VmConfig Everything = new()
    {
        Boot = BootSource.Kernel,
        Kernel = "/images/vmlinuz, the \"new\" one",
        Initrd = "/images/initrd.img",
        CommandLine = "console=ttyS0 quiet",
        MemoryMiB = 1536,
        Cpus = 4,
        OnReboot = RebootPolicy.Restart,
        Disks =
        [
            new DiskConfig("/data/root,ro.qcow2") { Format = DiskFormat.Qcow2, Cache = DiskCache.None, Serial = "root-disk" },
            new DiskConfig("/data/data.img") { ReadOnly = true, Format = DiskFormat.Raw },
            new DiskConfig("/data/detect.img"),
        ],
        Nics =
        [
            new NicConfig("tap0") { Mac = "52:54:00:12:34:56" }, new NicConfig("tap1"),
            new NicConfig { Kind = NicKind.User, Forwards = [new PortForwardConfig { Protocol = ForwardProtocol.Udp, HostAddress = "::1", HostPort = 5353, GuestPort = 53 }] },
            new NicConfig { Bridge = "vmbr0" },
        ],
        Rng = true,
        Display = DisplayKind.Std,
        Input = InputKind.Ps2,
        Vnc = new VncConfig("127.0.0.1:5901") { PasswordFile = "/etc/vnc.pass" },
        Serial = SerialMode.Socket,
        RuntimeDir = "/var/lib/platform/run/abc",
    };

    [Fact]
    public void Every_setting_survives_a_round_trip_through_a_file()
    {
        string path = Path.Combine(_folder, VmConfigFile.FileName);

        VmConfigFile.Write(path, Everything);
        var read = VmConfigFile.Read(path);

        read.Should().BeEquivalentTo(Everything, o => o.WithStrictOrdering());
        File.GetUnixFileMode(path).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite, "the file names host paths");
        File.Exists(path + ".tmp").Should().BeFalse();
    }

    [Fact]
    public void Values_keep_their_types_on_the_wire()
    {
        using var json = JsonDocument.Parse(VmConfigFile.Serialize(Everything));
        var root = json.RootElement;

        root.GetProperty("memory_mib").GetInt32().Should().Be(1536);
        root.GetProperty("cpus").GetInt32().Should().Be(4);
        root.GetProperty("on_reboot").GetString().Should().Be("restart");
        root.GetProperty("cmdline").GetString().Should().Be("console=ttyS0 quiet");
        root.GetProperty("disks")[0].GetProperty("cache").GetString().Should().Be("none");
        root.GetProperty("disks")[0].GetProperty("format").GetString().Should().Be("qcow2");
        root.GetProperty("nics")[2].GetProperty("kind").GetString().Should().Be("user");
        root.GetProperty("nics")[2].GetProperty("forwards")[0].GetProperty("protocol").GetString().Should().Be("udp");
        root.GetProperty("nics")[2].GetProperty("forwards")[0].GetProperty("host_port").GetInt32().Should().Be(5353);
        root.GetProperty("disks")[1].GetProperty("read_only").GetBoolean().Should().BeTrue();
        root.GetProperty("disks")[2].TryGetProperty("format", out _).Should().BeFalse("an unknown format is left out, not null");
        root.GetProperty("vnc").GetProperty("password_file").GetString().Should().Be("/etc/vnc.pass");
        root.GetProperty("runtime_dir").GetString().Should().Be("/var/lib/platform/run/abc");
    }

    [Fact]
    public void A_minimal_file_gets_the_defaults()
    {
        var config = VmConfigFile.Deserialize("""{ "kernel": "/k" }""");

        config.Should().BeEquivalentTo(new VmConfig { Kernel = "/k" });
        config.MemoryMiB.Should().Be(512);
        config.Cpus.Should().Be(1);
        config.Display.Should().Be(DisplayKind.Std);
        config.EffectiveInput.Should().Be(InputKind.Virtio);
        config.EffectiveCommandLine.Should().Be("console=ttyS0");
        new VmConfig { Boot = BootSource.Disk }.EffectiveCommandLine.Should().BeEmpty();
    }

    [Theory]
    [InlineData("""{ "kernel": "/k", "memroy_mib": 64 }""", "memroy_mib")]
    [InlineData("""{ "kernel": "/k", "memory_mib": "512M" }""", "$.memory_mib")]
    [InlineData("""{ "kernel": "/k", "display": "vga" }""", "$.display")]
    [InlineData("""{ "kernel": "/k", "disks": [ { "read_only": true } ] }""", "path")]
    [InlineData("""{ "kernel": "/k", "disks": [ { "path": "/d", "cache": "unsafe" } ] }""", "$.disks[0].cache")]
    [InlineData("""[ 1, 2 ]""", "VmConfig")]
    [InlineData("""{ "kernel": """, "$.kernel")]
    [InlineData("""{ "kernel": "/k", "display": 1 }""", "$.display")]
    public void A_malformed_file_is_refused_saying_where(string json, string where)
    {
        var act = () => VmConfigFile.Deserialize(json);

        act.Should().Throw<VmConfigFormatException>().Which.Message.Should().Contain(where);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        string path = Path.Combine(_folder, "nope.json");

        var act = () => VmConfigFile.Read(path);

        act.Should().Throw<VmConfigFormatException>().WithMessage($"cannot read {path}*");
    }

    [Fact]
    public void Comments_and_trailing_commas_are_forgiven_in_a_file_written_by_hand()
    {
        var config = VmConfigFile.Deserialize("""
            {
              // the test guest
              "kernel": "/k",
              "cpus": 2,
            }
            """);

        config.Cpus.Should().Be(2);
    }

    [Fact]
    public void Every_enum_value_is_spelt_in_files_as_the_names_say()
    {
        AssertNames<BootSource>();
        AssertNames<RebootPolicy>();
        AssertNames<DisplayKind>();
        AssertNames<InputKind>();
        AssertNames<DiskCache>();
        AssertNames<DiskFormat>();
        AssertNames<DiskBus>();
        AssertNames<SerialMode>();
        AssertNames<FirmwareKind>();
        AssertNames<BootDevice>();
    }

    [Fact]
    public void A_CD_ROM_drive_and_the_boot_order_are_written_as_docs_vm_config_md_shows_them()
    {
        var config = new VmConfig
        {
            Firmware = FirmwareKind.Bios, Disks = [new DiskConfig("/d.img")], Cdrom = new CdromConfig("/isos/netinst.iso"),
            BootOrder = [BootDevice.Cdrom, BootDevice.Disk],
        };

        using var json = JsonDocument.Parse(VmConfigFile.Serialize(config));
        json.RootElement.GetProperty("cdrom").GetProperty("path").GetString().Should().Be("/isos/netinst.iso");
        json.RootElement.GetProperty("boot_order").EnumerateArray().Select(e => e.GetString()).Should().Equal("cdrom", "disk");
        VmConfigFile.Deserialize(json.RootElement.GetRawText()).Should().BeEquivalentTo(config);
        var empty = VmConfigFile.Deserialize("""{ "firmware": "bios", "cdrom": {} }""");
        empty.Cdrom.Should().Be(new CdromConfig());
        empty.EffectiveBootOrder.Should().Equal(BootDevice.Disk, BootDevice.Cdrom);
    }

    [Fact]
    public void A_disks_bus_is_written_by_name_and_left_out_means_virtio()
    {
        var config = new VmConfig { Firmware = FirmwareKind.Bios, Disks = [new DiskConfig("/s.img") { Bus = DiskBus.Sata }, new DiskConfig("/v.img")] };

        using var json = JsonDocument.Parse(VmConfigFile.Serialize(config));
        json.RootElement.GetProperty("disks")[0].GetProperty("bus").GetString().Should().Be("sata");
        VmConfigFile.Deserialize(json.RootElement.GetRawText()).Should().BeEquivalentTo(config);
        VmConfigFile.Deserialize("""{ "firmware": "bios", "disks": [ { "path": "/d" } ] }""").Disks[0].Bus.Should().Be(DiskBus.Virtio);
        config.HasAhci.Should().BeTrue("a SATA disk needs the AHCI controller");
        config.StoragePciDevices.Should().Be(2, "the virtio disk's function and the AHCI controller");
    }

    [Fact]
    public void A_firmware_machine_is_written_with_its_bios_and_log()
    {
        var bios = new VmConfig
        {
            Firmware = FirmwareKind.Bios, Bios = "/opt/bios.bin", FirmwareLog = "/tmp/bios.log", Disks = [new DiskConfig("/d.img")],
        };

        using var json = JsonDocument.Parse(VmConfigFile.Serialize(bios));
        json.RootElement.GetProperty("firmware").GetString().Should().Be("bios");
        json.RootElement.GetProperty("bios").GetString().Should().Be("/opt/bios.bin");
        json.RootElement.GetProperty("firmware_log").GetString().Should().Be("/tmp/bios.log");
        VmConfigFile.Deserialize(json.RootElement.GetRawText()).Should().BeEquivalentTo(bios);
        VmConfigFile.Deserialize("""{ "firmware": "bios" }""").EffectiveBios.Should().Be(VmConfig.DebianSeaBios);
    }

    private static void AssertNames<T>()
        where T : struct, Enum
    {
        foreach (var value in Enum.GetValues<T>())
        {
            string json = JsonSerializer.Serialize(value, VmConfigJson.Default.Options);
            json.Should().Be($"\"{VmConfigNames.Of(value)}\"", $"{typeof(T).Name}.{value} is written by its name");
            VmConfigNames.Parse<T>(VmConfigNames.Of(value)).Should().Be(value);
        }

        VmConfigNames.Parse<T>("no-such-name").Should().BeNull();
    }
}
