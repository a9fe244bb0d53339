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
        CheckNics(config.Nics, Add);

        int pciDevices = config.Disks.Count + config.Nics.Count + (config.Rng ? 1 : 0) + config.DisplayPciDevices + config.ChipsetPciDevices;
        if (pciDevices > VmConfigLimits.MaxPciDevices)
        {
            Add("disks", $"at most {VmConfigLimits.MaxPciDevices} PCI devices (disks, NICs, the rng, the display and its input devices, and with firmware the ISA bridge, together; got {pciDevices})");
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

    private static void CheckDisks(IReadOnlyList<DiskConfig> disks, Action<string, string> add)
    {
        for (int i = 0; i < disks.Count; i++)
        {
            var disk = disks[i];
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
        }
    }

    private static void CheckNics(IReadOnlyList<NicConfig> nics, Action<string, string> add)
    {
        var taps = new Dictionary<string, int>(StringComparer.Ordinal);
        var macs = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < nics.Count; i++)
        {
            var nic = nics[i];
            if (!VmConfigLimits.IsValidTapName(nic.Tap ?? ""))
            {
                add($"nics[{i}].tap", $"'{nic.Tap}' is not an interface name (1 to {VmConfigLimits.TapNameMaxLength} characters, no '/', ':' or spaces)");
            }
            else if (!taps.TryAdd(nic.Tap!, i))
            {
                add($"nics[{i}].tap", $"{nic.Tap} is nics[{taps[nic.Tap!]}]'s TAP device too: each NIC needs its own");
            }

            var mac = nic.Mac is null ? NicMac.Default(nic.Tap ?? "") : NicMac.Parse(nic.Mac);
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
