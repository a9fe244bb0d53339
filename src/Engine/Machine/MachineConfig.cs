using Platform.Devices.Display;
using Platform.Devices.Virtio.Block;
using Platform.Engine.Net;

namespace Platform.Engine.Machine;

/// <summary>What to do when the guest resets (i8042 pulse, triple fault, reset system event).</summary>
public enum RebootPolicy
{
    /// <summary>The VMM exits with <see cref="VmmExitCode.GuestReset"/>, as Firecracker and QEMU's -no-reboot do.</summary>
    Exit,
    /// <summary>The machine is rebuilt and the kernel boots again.</summary>
    Restart,
}

/// <summary>The machine's display adapter.</summary>
public enum DisplayKind
{
    /// <summary>No display: no VGA device, no framebuffer, no vnc.sock (a serial-only machine, as Firecracker's).</summary>
    None,
    /// <summary>QEMU's std-vga (Bochs VBE, PCI 1234:1111) with its framebuffer served over RFB, as QEMU's pc machine has by default.</summary>
    Std,
}

/// <summary>Where the kernel comes from.</summary>
public enum BootSource
{
    /// <summary><see cref="MachineConfig.KernelPath"/> and <see cref="MachineConfig.InitrdPath"/>: host files, as QEMU's -kernel.</summary>
    Kernel,
    /// <summary>
    /// The first disk: the VMM reads its boot configuration (Boot Loader Spec, extlinux, grub.cfg, Debian's /vmlinuz) and
    /// loads the kernel and initrd it names, as Xen's pygrub does. Read again at every boot, so a guest that installs a
    /// new kernel boots it after its next reboot.
    /// </summary>
    Disk,
}

/// <summary>The input devices a display's viewers type and point with.</summary>
public enum InputKind
{
    /// <summary>
    /// A virtio tablet (absolute pointer: the guest's cursor is where the viewer's is) and a virtio keyboard beside
    /// the PS/2 keyboard, as QEMU with <c>-device virtio-tablet-pci -device virtio-keyboard-pci</c>. Keys go to the
    /// virtio keyboard while the guest's driver runs it, to the PS/2 keyboard otherwise.
    /// </summary>
    Virtio,
    /// <summary>Only the PS/2 keyboard on the i8042 (which every machine has): no pointer.</summary>
    Ps2,
}

/// <summary>One VM's hardware and boot source; the CLI and vm.json both produce it.</summary>
public sealed record MachineConfig
{
    public const int MaxCpus = 16;
    public const ulong MinMemory = 16ul << 20;

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

    /// <summary>virtio-blk disks, in PCI slot order (the first is /dev/vda in a Linux guest).</summary>
    public IReadOnlyList<DiskOptions> Disks { get; init; } = [];

    /// <summary>virtio-net NICs on host TAP devices, in PCI slot order (eth0 first).</summary>
    public IReadOnlyList<NicOptions> Nics { get; init; } = [];

    /// <summary>Whether the machine has a virtio-rng (host entropy). Off unless asked for, as in QEMU.</summary>
    public bool Rng { get; init; }

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
    public const int MaxPciDevices = 31;

    /// <summary>Checks ranges; returns the problems in words, empty when the config is usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (CpuCount is < 1 or > MaxCpus)
        {
            problems.Add($"--cpus must be 1 to {MaxCpus} (got {CpuCount})");
        }

        if (MemoryBytes < MinMemory)
        {
            problems.Add($"--memory must be at least {MinMemory >> 20} MiB");
        }

        if (MemoryBytes % 4096 != 0)
        {
            problems.Add("--memory must be a whole number of 4 KiB pages");
        }

        if (Boot == BootSource.Kernel && string.IsNullOrEmpty(KernelPath))
        {
            problems.Add("--kernel is required");
        }

        if (Boot == BootSource.Disk && (KernelPath is not null || InitrdPath is not null))
        {
            problems.Add("--boot disk reads the kernel and initrd from the disk: leave out --kernel and --initrd");
        }

        if (Boot == BootSource.Disk && Disks.Count == 0)
        {
            problems.Add("--boot disk boots from the first disk: give one with --disk");
        }

        if (Disks.Count + Nics.Count + (Rng ? 1 : 0) + DisplayPciDevices > MaxPciDevices)
        {
            problems.Add($"at most {MaxPciDevices} PCI devices (disks, NICs, the rng, the display and its input devices together)");
        }

        if (VideoMemoryBytes is < StdVga.MinVideoMemorySize or > StdVga.MaxVideoMemorySize || (VideoMemoryBytes & (VideoMemoryBytes - 1)) != 0)
        {
            problems.Add("video memory must be a power of two from 1 MiB to 256 MiB");
        }

        foreach (var tap in Nics.GroupBy(n => n.Tap).Where(g => g.Count() > 1))
        {
            problems.Add($"TAP {tap.Key} is given to more than one NIC");
        }

        foreach (var mac in Nics.GroupBy(n => NicOptions.FormatMac(n.Mac)).Where(g => g.Count() > 1))
        {
            problems.Add($"MAC {mac.Key} is given to more than one NIC");
        }

        return problems;
    }
}

/// <summary>How the platform-vmm process ends; documented in docs/control-protocol.md.</summary>
public enum VmmExitCode
{
    /// <summary>The guest powered off, or quit was asked for.</summary>
    PowerOff = 0,
    /// <summary>The VMM could not start: bad arguments, a bad kernel image, no KVM.</summary>
    StartFailure = 1,
    /// <summary>The guest reset and --on-reboot exit was given.</summary>
    GuestReset = 2,
    /// <summary>The guest died (KVM emulation failure, failed entry, crash event).</summary>
    GuestFatal = 3,
    /// <summary>Usage error on the command line.</summary>
    Usage = 64,
}
