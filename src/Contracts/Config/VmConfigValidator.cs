using System.Net;
using System.Text;

namespace Platform.Contracts.Config;

/// <summary>One thing wrong with a configuration.</summary>
/// <param name="Field">The field as vm.json spells it: <c>memory_mib</c>, <c>disks[1].serial</c>, <c>vnc.listen</c>.</param>
/// <param name="Message">What is wrong and what would be right, for people.</param>
public sealed record ConfigProblem(string Field, string Message)
{
    public override string ToString() => $"{Field}: {Message}";
}

/// <summary>
/// The one place a <see cref="VmConfig"/> is checked, whoever made it (the dashboard, vm.json, the command line): every
/// problem is found, not just the first, and each names its field. Files are not opened here: that the kernel or a
/// disk exists and is readable is for the VMM to find out when it opens them.
/// </summary>
public static class VmConfigValidator
{
    public static IReadOnlyList<ConfigProblem> Validate(VmConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var problems = new List<ConfigProblem>();
        void Add(string field, string message) => problems.Add(new ConfigProblem(field, message));

        if (config.Cpus is < 1 or > VmConfigLimits.MaxCpus)
        {
            Add("cpus", $"must be 1 to {VmConfigLimits.MaxCpus} (got {config.Cpus})");
        }

        if (config.MemoryMiB is < VmConfigLimits.MinMemoryMiB or > VmConfigLimits.MaxMemoryMiB)
        {
            Add("memory_mib", $"must be {VmConfigLimits.MinMemoryMiB} to {VmConfigLimits.MaxMemoryMiB} MiB (got {config.MemoryMiB})");
        }

        // JSON may carry an enum as a number; only the named values mean anything.
        CheckEnum("firmware", config.Firmware, Add);
        CheckEnum("boot", config.Boot, Add);
        CheckEnum("on_reboot", config.OnReboot, Add);
        CheckEnum("display", config.Display, Add);
        CheckEnum("serial", config.Serial, Add);
        if (config.Input is { } input)
        {
            CheckEnum("input", input, Add);
        }

        CheckBoot(config, Add);
        CheckDisks(config.Disks, Add);
        CheckSataPorts(config, Add);
        CheckNics(config.Nics, Add);
        CheckCdrom(config, Add);

        int pciDevices = config.Nics.Count + (config.Rng ? 1 : 0) + config.DisplayPciDevices + config.ChipsetPciDevices +
            config.StoragePciDevices;
        if (pciDevices > VmConfigLimits.MaxPciDevices)
        {
            Add("disks", $"at most {VmConfigLimits.MaxPciDevices} PCI devices (virtio disks, NICs, the rng, the display and its input devices, with firmware the ISA bridge, and the AHCI controller of a CD-ROM or SATA disks, together; got {pciDevices})");
        }

        if (config.Display == DisplayKind.None && config.Input is not null)
        {
            Add("input", "chooses the display's input devices: leave it out when display is none");
        }

        if (config.Vnc is { } vnc)
        {
            CheckVnc(config, vnc, Add);
        }

        if (config.RuntimeDir is { } runtimeDir)
        {
            if (runtimeDir.Length == 0)
            {
                Add("runtime_dir", "is empty: name a folder, or leave it out");
            }
            else if (Encoding.UTF8.GetByteCount(runtimeDir) > VmConfigLimits.RuntimeDirMaxBytes)
            {
                Add("runtime_dir", $"is {Encoding.UTF8.GetByteCount(runtimeDir)} bytes long; socket paths allow a folder of at most {VmConfigLimits.RuntimeDirMaxBytes}: choose a shorter one");
            }
        }
        else if (config.Serial == SerialMode.Socket)
        {
            Add("serial", "socket puts the console on serial.sock in the runtime folder: give runtime_dir");
        }

        if (config.CommandLine is { } commandLine && commandLine.Contains('\0', StringComparison.Ordinal))
        {
            Add("cmdline", "contains a NUL character");
        }

        return problems;
    }

    private static void CheckEnum<T>(string field, T value, Action<string, string> add)
        where T : struct, Enum
    {
        if (!Enum.IsDefined(value))
        {
            add(field, $"{value} is not one of {string.Join(", ", VmConfigNames.Of<T>())}");
        }
    }

    private static void CheckBoot(VmConfig config, Action<string, string> add)
    {
        if (!Enum.IsDefined(config.Boot) || !Enum.IsDefined(config.Firmware))
        {
            return; // Said already; what else is needed depends on which boot was meant.
        }

        if (config.Firmware == FirmwareKind.Bios)
        {
            CheckFirmwareBoot(config, add);
            return;
        }

        if (config.Bios is not null)
        {
            add("bios", "names the BIOS image that firmware bios runs: set firmware to bios, or leave it out");
        }

        if (config.FirmwareLog is not null)
        {
            add("firmware_log", "gets the firmware's debug output: set firmware to bios, or leave it out");
        }

        if (config.Boot == BootSource.Kernel)
        {
            if (string.IsNullOrEmpty(config.Kernel))
            {
                add("kernel", "is required when boot is kernel");
            }

            return;
        }

        if (config.Kernel is not null)
        {
            add("kernel", "must be left out when boot is disk: the VMM reads the kernel from the disk");
        }

        if (config.Initrd is not null)
        {
            add("initrd", "must be left out when boot is disk: the VMM reads the initrd from the disk");
        }

        if (config.Disks.Count == 0)
        {
            add("disks", "boot is disk, so the first disk is booted: give one");
        }
    }

    /// <summary>With firmware the BIOS boots the disks: nothing may say what the VMM would load instead.</summary>
    private static void CheckFirmwareBoot(VmConfig config, Action<string, string> add)
    {
        const string Why = "with firmware bios the BIOS boots from the disks";
        if (config.Boot == BootSource.Disk)
        {
            add("boot", $"disk makes the VMM read the kernel from the disk itself; {Why}: leave boot out");
        }

        if (config.Kernel is not null)
        {
            add("kernel", $"must be left out: {Why}");
        }

        if (config.Initrd is not null)
        {
            add("initrd", $"must be left out: {Why}");
        }

        if (config.CommandLine is not null)
        {
            add("cmdline", $"must be left out: {Why}, and the boot loader on the disk gives the kernel its command line");
        }

        CheckPath("bios", config.Bios, $"name the BIOS image, or leave it out for Debian's SeaBIOS ({VmConfig.DebianSeaBios})", add);
        CheckPath("firmware_log", config.FirmwareLog, "name the file, or leave it out", add);
    }

    /// <summary>The CD-ROM's image, and a boot order that names each device once and only devices the VM has.</summary>
    private static void CheckCdrom(VmConfig config, Action<string, string> add)
    {
        if (config.Cdrom is { } cdrom)
        {
            CheckPath("cdrom.path", cdrom.Path, "name the ISO image, or leave path out for an empty drive", add);
        }

        if (config.BootOrder is not { } order)
        {
            return;
        }

        if (config.Firmware != FirmwareKind.Bios)
        {
            add("boot_order", "is the order the BIOS boots devices in: set firmware to bios, or leave it out");
            return;
        }

        if (order.Count == 0)
        {
            add("boot_order", "is empty: name cdrom, disk or both, or leave it out");
        }

        for (int i = 0; i < order.Count; i++)
        {
            var device = order[i];
            if (!Enum.IsDefined(device))
            {
                add($"boot_order[{i}]", $"{device} is not one of {string.Join(", ", VmConfigNames.Of<BootDevice>())}");
            }
            else if (order.Take(i).Contains(device))
            {
                add($"boot_order[{i}]", $"names {VmConfigNames.Of(device)} twice");
            }
            else if (device == BootDevice.Cdrom && config.Cdrom is null)
            {
                add($"boot_order[{i}]", "names cdrom, but the VM has no CD-ROM drive: add one (cdrom) or leave cdrom out");
            }
            else if (device == BootDevice.Disk && config.Disks.Count == 0)
            {
                add($"boot_order[{i}]", "names disk, but the VM has no disks: add one or leave disk out");
            }
        }
    }

    private static void CheckPath(string field, string? path, string fix, Action<string, string> add)
    {
        if (path is { Length: 0 })
        {
            add(field, $"is empty: {fix}");
        }
        else if (path is not null && path.Contains('\0', StringComparison.Ordinal))
        {
            add(field, "contains a NUL character");
        }
    }

    /// <summary>
    /// SATA disks fill the AHCI controller's ports after the CD-ROM's port 0, so at most
    /// <see cref="VmConfigLimits.AhciPorts"/> of them, one fewer with a drive.
    /// </summary>
    private static void CheckSataPorts(VmConfig config, Action<string, string> add)
    {
        int free = VmConfigLimits.AhciPorts - (config.Cdrom is null ? 0 : 1);
        int sata = 0;
        for (int i = 0; i < config.Disks.Count; i++)
        {
            if (config.Disks[i].Bus == DiskBus.Sata && ++sata > free)
            {
                add($"disks[{i}].bus", $"sata: the AHCI controller has {VmConfigLimits.AhciPorts} ports{(config.Cdrom is null ? "" : " and the CD-ROM takes port 0")}, so at most {free} SATA disks fit; put this one on virtio");
            }
        }

        if (config.Boot == BootSource.Disk && config.Firmware == FirmwareKind.None && config.Disks.Count > 0 && config.Disks[0].Bus == DiskBus.Sata)
        {
            add("disks[0].bus", "sata: boot disk loads the kernel from the first disk for a guest that finds its root on virtio-blk; put the first disk on virtio, or boot a SATA disk with firmware bios");
        }
    }

    private static void CheckDisks(IReadOnlyList<DiskConfig> disks, Action<string, string> add)
    {
        for (int i = 0; i < disks.Count; i++)
        {
            var disk = disks[i];
            CheckEnum($"disks[{i}].bus", disk.Bus, add);
            if (string.IsNullOrEmpty(disk.Path))
            {
                add($"disks[{i}].path", "is required: the image on the host");
            }
            else if (disk.Path.Contains('\0', StringComparison.Ordinal))
            {
                add($"disks[{i}].path", "contains a NUL character");
            }

            CheckEnum($"disks[{i}].cache", disk.Cache, add);
            if (disk.Format is { } format)
            {
                CheckEnum($"disks[{i}].format", format, add);
            }

            if (disk.Serial is { } serial && (serial.Length is 0 or > VmConfigLimits.DiskSerialMaxLength || serial.Any(c => c is < ' ' or > '~')))
            {
                add($"disks[{i}].serial", $"must be 1 to {VmConfigLimits.DiskSerialMaxLength} printable ASCII characters (got \"{serial}\")");
            }

            if (disk.Bps is < VmConfigLimits.MinDiskBps)
            {
                add($"disks[{i}].bps", $"must be at least {VmConfigLimits.MinDiskBps} bytes a second, or left out for no limit (got {disk.Bps})");
            }

            if (disk.Iops is < VmConfigLimits.MinDiskIops)
            {
                add($"disks[{i}].iops", $"must be at least {VmConfigLimits.MinDiskIops} request a second, or left out for no limit (got {disk.Iops})");
            }

            if (disk.Bus == DiskBus.Sata && (disk.Bps is not null || disk.Iops is not null))
            {
                add($"disks[{i}].{(disk.Bps is not null ? "bps" : "iops")}",
                    "I/O limits apply to virtio disks only: a SATA disk is not throttled (leave them out, or use bus virtio)");
            }
        }
    }

    private static void CheckNics(IReadOnlyList<NicConfig> nics, Action<string, string> add)
    {
        var taps = new Dictionary<string, int>(StringComparer.Ordinal);
        var macs = new Dictionary<string, int>(StringComparer.Ordinal);
        var forwards = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < nics.Count; i++)
        {
            var nic = nics[i];
            if (nic.Kind is { } kind && !Enum.IsDefined(kind))
            {
                add($"nics[{i}].kind", "must be user, tap or bridge");
                continue;
            }

            switch (nic.EffectiveKind)
            {
                case NicKind.Tap:
                    CheckInterfaceName($"nics[{i}].tap", nic.Tap, "TAP device", add);
                    if (VmConfigLimits.IsValidTapName(nic.Tap ?? "") && !taps.TryAdd(nic.Tap!, i))
                    {
                        add($"nics[{i}].tap", $"{nic.Tap} is nics[{taps[nic.Tap!]}]'s TAP device too: each NIC needs its own");
                    }

                    break;
                case NicKind.Bridge:
                    CheckInterfaceName($"nics[{i}].bridge", nic.Bridge, "bridge", add);
                    if (nic.Vlan is { } vlan && vlan is < VmConfigLimits.MinVlan or > VmConfigLimits.MaxVlan)
                    {
                        add($"nics[{i}].vlan", $"must be a VLAN id from {VmConfigLimits.MinVlan} to {VmConfigLimits.MaxVlan} (got {vlan})");
                    }

                    break;
            }

            if (nic.EffectiveKind != NicKind.Bridge && nic.Vlan is not null)
            {
                add($"nics[{i}].vlan", $"VLAN tags belong to bridge NICs; a {Name(nic.EffectiveKind)} NIC has no bridge port to tag");
            }

            if (nic.EffectiveKind != NicKind.Tap && nic.Tap is not null)
            {
                add($"nics[{i}].tap", $"names a TAP device, which a {Name(nic.EffectiveKind)} NIC does not use: leave it out");
            }

            if (nic.EffectiveKind != NicKind.Bridge && nic.Bridge is not null)
            {
                add($"nics[{i}].bridge", $"names a bridge, which a {Name(nic.EffectiveKind)} NIC does not use: leave it out");
            }

            if (nic.EffectiveKind != NicKind.User && nic.Forwards.Count > 0)
            {
                add($"nics[{i}].forwards", $"port forwards belong to user-mode NICs; a {Name(nic.EffectiveKind)} NIC's guest is reached on its own address");
            }
            else
            {
                CheckForwards(i, nic.Forwards, forwards, add);
            }

            var mac = nic.Mac is null ? NicMac.Of(nic, i) : NicMac.Parse(nic.Mac);
            if (mac is null)
            {
                add($"nics[{i}].mac", $"'{nic.Mac}' is not a unicast MAC address (six hex bytes with ':', e.g. 52:54:00:12:34:56)");
            }
            else if (!macs.TryAdd(NicMac.Format(mac), i))
            {
                add($"nics[{i}].mac", $"{NicMac.Format(mac)} is nics[{macs[NicMac.Format(mac)]}]'s address too: each NIC needs its own");
            }
        }
    }

    private static string Name(NicKind kind) => kind.ToString().ToLowerInvariant();

    private static void CheckInterfaceName(string field, string? name, string what, Action<string, string> add)
    {
        if (!VmConfigLimits.IsValidTapName(name ?? ""))
        {
            add(field, name is null
                ? $"the {what}'s name is required"
                : $"'{name}' is not an interface name (1 to {VmConfigLimits.TapNameMaxLength} characters, no '/', ':' or spaces)");
        }
    }

    /// <summary>Each forward: a known protocol, an IP address literal, ports 1–65535, and a host end no other forward of the VM uses.</summary>
    private static void CheckForwards(int nic, IReadOnlyList<PortForwardConfig> forwards, Dictionary<string, string> used, Action<string, string> add)
    {
        if (forwards.Count > VmConfigLimits.MaxForwardsPerNic)
        {
            add($"nics[{nic}].forwards", $"at most {VmConfigLimits.MaxForwardsPerNic} port forwards per NIC (got {forwards.Count})");
            return;
        }

        for (int j = 0; j < forwards.Count; j++)
        {
            string field = $"nics[{nic}].forwards[{j}]";
            var forward = forwards[j];
            if (!Enum.IsDefined(forward.Protocol))
            {
                add($"{field}.protocol", "must be tcp or udp");
                continue;
            }

            if (!IPAddress.TryParse(forward.HostAddress ?? "", out var address))
            {
                add($"{field}.host_address", $"'{forward.HostAddress}' is not an IP address (127.0.0.1, ::1, 0.0.0.0 for every address)");
            }

            if (forward.HostPort is < 1 or > 65535)
            {
                add($"{field}.host_port", $"must be 1 to 65535 (got {forward.HostPort})");
            }

            if (forward.GuestPort is < 1 or > 65535)
            {
                add($"{field}.guest_port", $"must be 1 to 65535 (got {forward.GuestPort})");
            }

            if (address is not null && forward.HostPort is >= 1 and <= 65535)
            {
                string key = $"{forward.Protocol}:{address}:{forward.HostPort}";
                if (!used.TryAdd(key, field))
                {
                    add($"{field}.host_port", $"{forward} takes the host port {used[key]} already forwards");
                }
            }
        }
    }

    private static void CheckVnc(VmConfig config, VncConfig vnc, Action<string, string> add)
    {
        if (config.Display == DisplayKind.None)
        {
            add("vnc", "serves the display: leave it out when display is none");
        }

        var endPoint = VncAddress.Parse(vnc.Listen, out string? problem);
        if (endPoint is null)
        {
            add("vnc.listen", problem!);
        }
        else if (vnc.PasswordFile is null && !IPAddress.IsLoopback(endPoint.Address))
        {
            add("vnc.password_file", $"is required: {vnc.Listen} is not a loopback address, and anyone who reaches the port would control the VM (or listen on 127.0.0.1)");
        }

        if (vnc.PasswordFile is { Length: 0 })
        {
            add("vnc.password_file", "is empty: name the file, or leave it out");
        }
    }
}
