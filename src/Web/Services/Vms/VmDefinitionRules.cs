using Platform.Web.Data;
using Platform.Web.Services.Networks;

namespace Platform.Web.Services.Vms;

/// <summary>
/// The rules of a VM definition that need no database: ranges, names, paths, addresses. The wizard calls the
/// per-field checks as the user types; <see cref="Validate"/> applies them all and is what the API and
/// <see cref="VmService"/> use. Errors are keyed by the field's JSON name (<c>memoryMiB</c>,
/// <c>disks[1].path</c>), as in a ValidationProblem.
/// </summary>
public static class VmDefinitionRules
{
    public const int MinVcpus = 1;
    public const int MaxVcpus = VmConfigLimits.MaxCpus;
    public const int MinMemoryMiB = VmConfigLimits.MinMemoryMiB;
    public const int MaxDescriptionLength = 1024;
    public const int MaxPathLength = 4096;
    /// <summary>Linux/x86's COMMAND_LINE_SIZE, including the terminating NUL.</summary>
    public const int MaxCommandLineLength = 2047;
    /// <summary>Linux's IFNAMSIZ (16) less the NUL.</summary>
    public const int MaxTapNameLength = VmConfigLimits.TapNameMaxLength;
    public const int MaxDisks = 16;
    public const int MaxNics = 8;
    public const double MinCpuLimit = 0.01;
    public const int MinCpuUnits = 1;
    public const int MaxCpuUnits = 10000;
    public const int MinPidsLimit = 64;
    public const int MaxPidsLimit = 1 << 22;

    public static string? CheckVcpus(int count) =>
        count is < MinVcpus or > MaxVcpus ? $"vCPUs must be {MinVcpus} to {MaxVcpus}." : null;

    /// <summary>At least what the engine needs, and no more than the host has: a VM larger than the host's RAM
    /// would only ever start into swap or be killed by the OOM killer.</summary>
    public static string? CheckMemory(int memoryMiB, long hostMemoryMiB)
    {
        if (memoryMiB < MinMemoryMiB)
        {
            return $"Memory must be at least {MinMemoryMiB} MiB.";
        }

        return hostMemoryMiB > 0 && memoryMiB > hostMemoryMiB
            ? $"This host has {hostMemoryMiB} MiB of memory; a VM cannot have more ({memoryMiB} MiB asked)."
            : null;
    }

    /// <summary>Proxmox's cpulimit: a positive number of CPUs, at most the VM's vCPUs (more could never be used).</summary>
    public static string? CheckCpuLimit(double? cpus, int vcpus) => cpus switch
    {
        null => null,
        { } c when double.IsNaN(c) || c < MinCpuLimit => $"A CPU limit is at least {MinCpuLimit} CPUs (or none for no limit); got {c}.",
        { } c when c > vcpus => $"A CPU limit is at most the VM's {vcpus} vCPU{(vcpus == 1 ? "" : "s")}; got {c}.",
        _ => null,
    };

    public static string? CheckCpuUnits(int units) =>
        units is < MinCpuUnits or > MaxCpuUnits ? $"CPU units are {MinCpuUnits} to {MaxCpuUnits} (100 is the default share); got {units}." : null;

    /// <summary>The VMM alone runs a thread per vCPU and a few dozen more (the .NET runtime, devices, VNC, passt).</summary>
    public static string? CheckPidsLimit(int? pids) =>
        pids is < MinPidsLimit or > MaxPidsLimit ? $"A task limit is {MinPidsLimit} to {MaxPidsLimit} (the VMM needs a thread per vCPU and a few dozen more); got {pids}." : null;

    public static string? CheckDiskBps(long? bps) =>
        bps is < VmConfigLimits.MinDiskBps ? $"A disk bandwidth limit is at least {VmConfigLimits.MinDiskBps} bytes a second (or none for no limit); got {bps}." : null;

    public static string? CheckDiskIops(int? iops) =>
        iops is < VmConfigLimits.MinDiskIops ? $"A disk request limit is at least {VmConfigLimits.MinDiskIops} a second (or none for no limit); got {iops}." : null;

    /// <summary>A limit on a SATA disk: the VMM throttles virtio disks only (<see cref="VmConfigValidator"/> refuses it too).</summary>
    private static string? SataUnthrottled(VmDiskInput disk, long? limit) =>
        disk.Bus == DiskBus.Sata && limit is not null ? "I/O limits apply to virtio disks only: clear it, or put this disk on virtio." : null;

    /// <summary>
    /// Disk <paramref name="index"/>'s bus: a SATA disk needs a free AHCI port (six, the CD-ROM drive taking the first),
    /// and booting from a disk directly needs the first one on virtio (the same rules as <see cref="VmConfigValidator"/>).
    /// </summary>
    public static string? CheckDiskBus(VmDefinitionInput input, int index)
    {
        var disk = input.Disks[index];
        if (!Enum.IsDefined(disk.Bus))
        {
            return "The bus is virtio or sata.";
        }

        if (disk.Bus != DiskBus.Sata)
        {
            return null;
        }

        int ports = VmConfigLimits.AhciPorts - (input.Cdrom is null ? 0 : 1);
        if (input.Disks.Take(index + 1).Count(d => d.Bus == DiskBus.Sata) > ports)
        {
            return $"The AHCI controller has {VmConfigLimits.AhciPorts} ports{(input.Cdrom is null ? "" : ", one of them the CD-ROM drive's")}: at most {ports} SATA disks. Put this one on virtio.";
        }

        return index == 0 && input.BootMode == BootMode.Disk
            ? "Booting from a disk directly loads its kernel for a guest that finds its root on virtio: put the first disk on virtio, or boot with firmware."
            : null;
    }

    public static string? CheckDescription(string? description) =>
        description is { Length: > MaxDescriptionLength } ? $"A description has at most {MaxDescriptionLength} characters." : null;

    public static string? CheckCommandLine(string? commandLine) =>
        commandLine is { Length: > MaxCommandLineLength }
            ? $"The kernel command line has at most {MaxCommandLineLength} characters."
            : commandLine is not null && commandLine.Any(char.IsControl) ? "The kernel command line is one line of text." : null;

    /// <summary>A host file: absolute, one line. Any other character is fine: the path reaches platform-vmm inside
    /// vm.json, not on a command line where ',' would separate options.</summary>
    public static string? CheckHostPath(string? path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            return "A path is required.";
        }

        if (path.Length > MaxPathLength)
        {
            return $"A path has at most {MaxPathLength} characters.";
        }

        if (!path.StartsWith('/'))
        {
            return "Give an absolute path on the host, starting with '/'.";
        }

        if (path.Any(char.IsControl))
        {
            return "A path may not contain control characters.";
        }

        return null;
    }

    /// <summary>
    /// Stricter than what Linux (and <see cref="VmConfigLimits.IsValidTapName"/>, the VMM's rule) accepts: an
    /// administrator types this name, and a name of letters, digits, '-', '_' and '.' reads the same in every shell
    /// and log. Every name that passes here passes the VMM's rule.
    /// </summary>
    public static string? CheckTapName(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "A TAP device name is required.";
        }

        if (name.Length > MaxTapNameLength)
        {
            return $"A TAP device name has at most {MaxTapNameLength} characters.";
        }

        return name is "." or ".." || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
            ? "A TAP device name uses letters, digits, '-', '_' and '.', like tap0."
            : null;
    }

    /// <summary>
    /// Input devices belong to the display (platform-vmm refuses <c>--input</c> with <c>--display none</c>): with a
    /// display any kind, or none given (virtio); without one, none.
    /// </summary>
    public static string? CheckInput(bool displayEnabled, InputKind? input) => input switch
    {
        null => null,
        { } kind when !Enum.IsDefined(kind) => "Input devices are virtio (tablet and keyboard) or ps2 (PS/2 keyboard only).",
        _ when !displayEnabled => "Input devices come with the display: turn the display on, or leave input out.",
        _ => null,
    };

    /// <summary>
    /// A firmware boot needs something to boot (a disk or a CD-ROM drive), and a boot order names each device once, and
    /// only devices the VM has (platform-vmm refuses the rest at start, so the wizard says it first). Problems with the
    /// disks are keyed <c>disks</c>, since the wizard adds disks after it asks for the boot order.
    /// </summary>
    public static (string Key, string Message)? CheckBootOrder(VmDefinitionInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        bool hasDisks = input.Disks.Count > 0, hasCdrom = input.Cdrom is not null;
        if (!hasDisks && !hasCdrom)
        {
            return ("disks", "The BIOS boots a disk or a CD: add a disk, or a CD-ROM drive (on the boot step) with an ISO image.");
        }

        if (input.BootOrder is not { } order)
        {
            return null;
        }

        if (order.Count == 0)
        {
            return ("bootOrder", "The boot order is empty: name the disk, the CD-ROM or both, or leave it out (disks first).");
        }

        var seen = new HashSet<BootDevice>();
        foreach (var device in order)
        {
            if (!Enum.IsDefined(device))
            {
                return ("bootOrder", "A boot device is disk or cdrom.");
            }

            if (!seen.Add(device))
            {
                return ("bootOrder", $"The boot order names {VmConfigNames.Of(device)} twice.");
            }

            if (device == BootDevice.Cdrom && !hasCdrom)
            {
                return ("bootOrder", "The boot order names the CD-ROM, but the VM has no CD-ROM drive: add one, or leave it out of the boot order.");
            }

            if (device == BootDevice.Disk && !hasDisks)
            {
                return ("disks", "The boot order names the disk, but the VM has no disks: add one, or take the disk out of the boot order.");
            }
        }

        return null;
    }

    /// <summary>Empty is fine (one is generated); otherwise a unicast MAC address.</summary>
    public static string? CheckMacAddress(string? mac) =>
        string.IsNullOrWhiteSpace(mac) ? null : MacAddresses.Check(mac, out _);

    /// <summary>Every rule that needs no database; an empty result means the input passed.</summary>
    public static Dictionary<string, string[]> Validate(VmDefinitionInput input, long hostMemoryMiB)
    {
        var errors = new Dictionary<string, List<string>>();
        void Add(string key, string? problem)
        {
            if (problem is not null)
            {
                (errors.TryGetValue(key, out var list) ? list : errors[key] = []).Add(problem);
            }
        }

        Add("name", VmNameRules.Check(input.Name));
        Add("description", CheckDescription(input.Description));
        Add("vcpuCount", CheckVcpus(input.VcpuCount));
        Add("memoryMiB", CheckMemory(input.MemoryMiB, hostMemoryMiB));
        Add("cpuLimit", CheckCpuLimit(input.CpuLimit, input.VcpuCount));
        Add("cpuUnits", CheckCpuUnits(input.CpuUnits));
        Add("pidsLimit", CheckPidsLimit(input.PidsLimit));
        Add("bootMode", Enum.IsDefined(input.BootMode) ? null : "Boot from a kernel, from a disk, or with firmware (BIOS).");
        Add("onReboot", Enum.IsDefined(input.OnReboot) ? null : "On reboot: restart or exit.");
        Add("onCrash", Enum.IsDefined(input.OnCrash) ? null : "On crash: stay (crashed) or restart.");
        Add("input", CheckInput(input.DisplayEnabled, input.Input));

        Add("commandLine", CheckCommandLine(input.CommandLine));
        if (input.BootMode == BootMode.Kernel)
        {
            Add("kernel", (input.KernelImageId, input.KernelPath) switch
            {
                (null, null or "") => "Choose a kernel from the image library or give its path on the host.",
                (not null, { Length: > 0 }) => "Choose a kernel from the library or give a path, not both.",
                (null, var path) => CheckHostPath(path),
                _ => null,
            });
            Add("initrd", (input.InitrdImageId, input.InitrdPath) switch
            {
                (not null, { Length: > 0 }) => "Choose an initrd from the library or give a path, not both.",
                (null, { Length: > 0 } path) => CheckHostPath(path),
                _ => null,
            });
        }
        else if (input.BootMode == BootMode.Firmware)
        {
            if (CheckBootOrder(input) is var (key, problem))
            {
                Add(key, problem);
            }
        }
        else if (input.Disks.Count == 0)
        {
            Add("disks", "Booting from a disk needs at least one disk; the first disk is the boot disk.");
        }

        Add("disks", input.Disks.Count > MaxDisks ? $"A VM has at most {MaxDisks} disks." : null);
        for (int i = 0; i < input.Disks.Count; i++)
        {
            var disk = input.Disks[i];
            int sources = (disk.ImageId is null ? 0 : 1) + (string.IsNullOrEmpty(disk.Path) ? 0 : 1) + (disk.Blank is null ? 0 : 1) + (disk.Adopt is null ? 0 : 1);
            Add($"disks[{i}]", sources switch
            {
                // An id alone names one of the VM's own disks, which VmService checks against the database.
                0 when disk.Id is not null => null,
                0 => "Choose a disk image from the library, give a path on the host, or ask for a new blank disk.",
                > 1 => "Choose one of a library disk image, a host path or a new blank disk.",
                _ when disk.Blank is not null && disk.Id is not null => "A new blank disk has no id yet: leave the id out.",
                _ when disk.Path is { Length: > 0 } path => CheckHostPath(path),
                _ => null,
            });
            if (disk.Blank is { } blank)
            {
                Add($"disks[{i}].sizeBytes", Disks.DiskSizeRules.Check(blank));
            }

            Add($"disks[{i}].cache", Enum.IsDefined(disk.Cache) ? null : "Cache mode is writeback or none.");
            Add($"disks[{i}].bus", CheckDiskBus(input, i));
            Add($"disks[{i}].maxBytesPerSecond", CheckDiskBps(disk.MaxBytesPerSecond) ?? SataUnthrottled(disk, disk.MaxBytesPerSecond));
            Add($"disks[{i}].maxIops", CheckDiskIops(disk.MaxIops) ?? SataUnthrottled(disk, disk.MaxIops));
        }

        Add("nics", input.Nics.Count > MaxNics ? $"A VM has at most {MaxNics} NICs." : null);
        var taps = new HashSet<string>(StringComparer.Ordinal);
        var macs = new HashSet<string>(StringComparer.Ordinal);
        var hostEnds = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < input.Nics.Count; i++)
        {
            var nic = input.Nics[i];
            string? tap = string.IsNullOrWhiteSpace(nic.TapName) ? null : nic.TapName.Trim();
            Add($"nics[{i}].networkId", (nic.NetworkId, tap) switch
            {
                (null, null) => "Choose a network.",
                (not null, not null) => "Choose a network or a TAP device, not both.",
                _ => null,
            });
            if (tap is not null)
            {
                Add($"nics[{i}].tapName", CheckTapName(tap) ?? (taps.Add(tap) ? null : $"Another NIC of this VM already uses {tap}."));
                Add($"nics[{i}].portForwards", nic.PortForwards.Count > 0 ? "Port forwards belong to NICs on a NAT network." : null);
            }

            if (!string.IsNullOrWhiteSpace(nic.MacAddress))
            {
                string? macProblem = MacAddresses.Check(nic.MacAddress, out string mac);
                Add($"nics[{i}].macAddress", macProblem ?? (macs.Add(mac) ? null : $"Another NIC of this VM already has {mac}."));
            }

            Add($"nics[{i}].portForwards", nic.PortForwards.Count > NetworkRules.MaxForwardsPerNic
                ? $"A NIC has at most {NetworkRules.MaxForwardsPerNic} port forwards." : null);
            for (int j = 0; j < nic.PortForwards.Count; j++)
            {
                var forward = nic.PortForwards[j];
                string key = $"nics[{i}].portForwards[{j}]";
                foreach (var (field, message) in NetworkRules.CheckForward(forward))
                {
                    Add($"{key}.{field}", message);
                }

                if (System.Net.IPAddress.TryParse(forward.HostAddress ?? "", out _) && forward.HostPort is >= 1 and <= 65535 &&
                    !hostEnds.TryAdd(NetworkRules.HostEnd(forward), key))
                {
                    Add($"{key}.hostPort", $"{NetworkRules.HostEnd(forward)} is forwarded already ({hostEnds[NetworkRules.HostEnd(forward)]}).");
                }
            }
        }

        return errors.ToDictionary(e => e.Key, e => e.Value.ToArray());
    }
}
