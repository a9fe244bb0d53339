using Platform.Devices.Display;
using Platform.Devices.Virtio.Block;
using Platform.Engine.Net;

namespace Platform.Engine.Machine;

/// <summary>One VM's hardware and boot source as the engine builds it: a <see cref="VmConfig"/> resolved (<see cref="From"/>).</summary>
public sealed record MachineConfig
{
    public const int MaxCpus = VmConfigLimits.MaxCpus;
    public const ulong MinMemory = (ulong)VmConfigLimits.MinMemoryMiB << 20;

    /// <summary>
    /// <see cref="FirmwareKind.Bios"/>: the machine runs the BIOS image at <see cref="FirmwarePath"/> from the reset vector
    /// on a PC chipset (i440FX, PIIX3, fw_cfg) and loads no kernel; <see cref="Boot"/> and the kernel fields are unused.
    /// </summary>
    public FirmwareKind Firmware { get; init; } = FirmwareKind.None;

    /// <summary>The BIOS image with <see cref="FirmwareKind.Bios"/>.</summary>
    public string FirmwarePath { get; init; } = VmConfig.DebianSeaBios;

    /// <summary>Where the firmware's debug port (0x402) output goes; null: nowhere.</summary>
    public string? FirmwareLogPath { get; init; }

    /// <summary>PCI slots the chipset takes besides the host bridge (the PIIX3 with firmware).</summary>
    public int ChipsetPciDevices => Firmware == FirmwareKind.Bios ? 1 : 0;

    /// <summary>Where the kernel comes from; with <see cref="BootSource.Disk"/> there is no kernel or initrd path.</summary>
    public BootSource Boot { get; init; } = BootSource.Kernel;

    /// <summary>The kernel file (bzImage or PVH ELF); required when booting a kernel.</summary>
    public string? KernelPath { get; init; }

    public string? InitrdPath { get; init; }

    /// <summary>
    /// Booting a kernel: the whole command line ("console=ttyS0" unless given). Booting from the disk: what is added
    /// after the command line the disk's configuration gives (nothing unless given).
    /// </summary>
    public string CommandLine
    {
        get => _commandLine ?? (Boot == BootSource.Disk ? "" : "console=ttyS0");
        init => _commandLine = value;
    }

    private readonly string? _commandLine;

    public ulong MemoryBytes { get; init; } = 512ul << 20;

    public int CpuCount { get; init; } = 1;

    public RebootPolicy OnReboot { get; init; } = RebootPolicy.Exit;

    /// <summary>
    /// The disks in configured order: virtio-blk ones in PCI slot order (the first is /dev/vda in a Linux guest), SATA
    /// ones (<see cref="DiskOptions.Bus"/>) on the AHCI controller's ports after the CD-ROM's.
    /// </summary>
    public IReadOnlyList<DiskOptions> Disks { get; init; } = [];

    /// <summary>The virtio-blk disks, each a PCI function.</summary>
    public int VirtioDiskCount => Disks.Count(d => d.Bus == DiskInterface.Virtio);

    /// <summary>Whether the machine has the AHCI controller: for the CD-ROM drive or any SATA disk.</summary>
    public bool HasAhci => HasCdrom || Disks.Any(d => d.Bus == DiskInterface.Sata);

    /// <summary>virtio-net NICs on host TAP devices, in PCI slot order (eth0 first).</summary>
    public IReadOnlyList<NicOptions> Nics { get; init; } = [];

    /// <summary>Whether the machine has a DVD/CD-ROM drive (an AHCI controller with the drive on port 0).</summary>
    public bool HasCdrom { get; init; }

    /// <summary>The ISO image in the drive at start; null: empty (or no drive).</summary>
    public string? CdromPath { get; init; }

    /// <summary>With firmware: the order the BIOS boots devices in.</summary>
    public IReadOnlyList<BootDevice> BootOrder { get; init; } = [BootDevice.Disk, BootDevice.Cdrom];

    /// <summary>Whether the machine has a virtio-rng (host entropy). Off unless asked for, as in QEMU.</summary>
    public bool Rng { get; init; }

    /// <summary>
    /// Whether the machine has an HPET at 0xFED00000 (with its ACPI table and DSDT device); null: the default, on with
    /// firmware as on QEMU's pc machine, off on a direct boot, whose guests have always had only the PIT and the LAPIC timer.
    /// </summary>
    public bool? Hpet { get; init; }

    /// <summary>Whether the machine gets an HPET (<see cref="Hpet"/>, or its default).</summary>
    public bool HasHpet => Hpet ?? Firmware == FirmwareKind.Bios;

    /// <summary>The display adapter; the std-vga unless asked otherwise (<c>--display none</c>).</summary>
    public DisplayKind Display { get; init; } = DisplayKind.Std;

    /// <summary>
    /// The viewers' input devices; they exist only with a display. Virtio (a tablet and a keyboard on PCI after the
    /// display) unless asked otherwise (<c>--input ps2</c>).
    /// </summary>
    public InputKind Input { get; init; } = InputKind.Virtio;

    /// <summary>PCI functions the display brings: the std-vga, and the virtio tablet and keyboard with it.</summary>
    public int DisplayPciDevices => Display == DisplayKind.None ? 0 : Input == InputKind.Virtio ? 3 : 1;

    /// <summary>The std-vga's video memory: a power of two from 1 to 256 MiB (16 MiB, QEMU's default, fits 2560×1600).</summary>
    public int VideoMemoryBytes { get; init; } = StdVga.DefaultVideoMemorySize;

    /// <summary>PCI slots 1–31 are free for devices (0 is the host bridge).</summary>
    public const int MaxPciDevices = VmConfigLimits.MaxPciDevices;

    /// <summary>
    /// The machine a validated configuration describes (<see cref="VmConfigValidator"/> is where a configuration is
    /// checked and its problems named; this only translates). Reads the VNC password file when there is one.
    /// </summary>
    public static MachineConfig From(VmConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new MachineConfig
        {
            Firmware = config.Firmware,
            FirmwarePath = config.EffectiveBios,
            FirmwareLogPath = config.FirmwareLog,
            Boot = config.Boot,
            KernelPath = config.Kernel,
            InitrdPath = config.Initrd,
            CommandLine = config.EffectiveCommandLine,
            MemoryBytes = (ulong)config.MemoryMiB << 20,
            CpuCount = config.Cpus,
            OnReboot = config.OnReboot,
            Disks = [.. config.Disks.Select(DiskOf)],
            Nics = [.. config.Nics.Select(NicOptions.From)],
            Rng = config.Rng,
            Hpet = config.Hpet,
            HasCdrom = config.Cdrom is not null,
            CdromPath = config.Cdrom?.Path,
            BootOrder = config.EffectiveBootOrder,
            Display = config.Display,
            Input = config.EffectiveInput,
        };
    }

    /// <summary>A configured disk as the devices take it; <see cref="ConfigOf"/> is the way back.</summary>
    public static DiskOptions DiskOf(DiskConfig disk) => new(
        disk.Path,
        disk.ReadOnly,
        disk.Cache == DiskCache.None ? DiskCacheMode.None : DiskCacheMode.Writeback,
        disk.Serial,
        disk.Format switch
        {
            DiskFormat.Raw => DiskImageFormat.Raw,
            DiskFormat.Qcow2 => DiskImageFormat.Qcow2,
            _ => null,
        },
        disk.Bps,
        disk.Iops,
        disk.Bus == DiskBus.Sata ? DiskInterface.Sata : DiskInterface.Virtio);

    /// <summary>A disk the command line parsed (<see cref="DiskOptions.Parse"/>) as vm.json says it.</summary>
    public static DiskConfig ConfigOf(DiskOptions disk) => new(disk.Path)
    {
        ReadOnly = disk.ReadOnly,
        Cache = disk.Cache == DiskCacheMode.None ? DiskCache.None : DiskCache.Writeback,
        Serial = disk.Serial,
        Format = disk.Format switch
        {
            DiskImageFormat.Raw => DiskFormat.Raw,
            DiskImageFormat.Qcow2 => DiskFormat.Qcow2,
            _ => null,
        },
        Bps = disk.BytesPerSecond,
        Iops = disk.Iops,
        Bus = disk.Bus == DiskInterface.Sata ? DiskBus.Sata : DiskBus.Virtio,
    };

    /// <summary>
    /// Throws when the machine cannot be built as described — a caller's mistake, since configurations from users go
    /// through <see cref="VmConfigValidator"/> first: it checks only what would otherwise corrupt the machine.
    /// </summary>
    internal void EnsureBuildable()
    {
        if (CpuCount is < 1 or > MaxCpus || MemoryBytes < MinMemory || MemoryBytes % 4096 != 0)
        {
            throw new ArgumentException($"{CpuCount} vCPUs and {MemoryBytes} bytes of RAM cannot be built (1 to {MaxCpus} vCPUs, at least {MinMemory >> 20} MiB in whole pages).");
        }

        if (Firmware == FirmwareKind.Bios)
        {
            if (KernelPath is not null || InitrdPath is not null || Boot != BootSource.Kernel || string.IsNullOrEmpty(FirmwarePath))
            {
                throw new ArgumentException("A firmware boot needs a BIOS image and no kernel, initrd or disk boot.");
            }
        }
        else if (Boot == BootSource.Kernel ? string.IsNullOrEmpty(KernelPath) : KernelPath is not null || InitrdPath is not null || Disks.Count == 0)
        {
            throw new ArgumentException(Boot == BootSource.Kernel ? "A kernel boot needs a kernel." : "A disk boot needs a disk and no kernel or initrd.");
        }

        if (VirtioDiskCount + Nics.Count + (Rng ? 1 : 0) + DisplayPciDevices + ChipsetPciDevices + (HasAhci ? 1 : 0) > MaxPciDevices)
        {
            throw new ArgumentException($"At most {MaxPciDevices} PCI devices fit.");
        }

        if (Disks.Count - VirtioDiskCount + (HasCdrom ? 1 : 0) > VmConfigLimits.AhciPorts)
        {
            throw new ArgumentException($"The AHCI controller has {VmConfigLimits.AhciPorts} ports for the CD-ROM and the SATA disks.");
        }

        if (CdromPath is not null && !HasCdrom)
        {
            throw new ArgumentException("A CD-ROM image needs a CD-ROM drive (HasCdrom).");
        }

        if (VideoMemoryBytes is < StdVga.MinVideoMemorySize or > StdVga.MaxVideoMemorySize || (VideoMemoryBytes & (VideoMemoryBytes - 1)) != 0)
        {
            throw new ArgumentException("The video memory must be a power of two from 1 MiB to 256 MiB.");
        }
    }
}
