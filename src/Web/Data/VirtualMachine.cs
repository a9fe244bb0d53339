
namespace Platform.Web.Data;

/// <summary>A stored VM definition: what to boot and with how much. Runtime state lives with the supervisor.</summary>
public sealed class VirtualMachine
{
    public Guid Id { get; set; } = Guid.NewGuid();

    /// <summary>Unique without regard to case (the column uses SQLite's NOCASE collation); see <c>VmNameRules</c>.</summary>
    public required string Name { get; set; }

    public string? Description { get; set; }

    public int VcpuCount { get; set; } = 1;

    public int MemoryMiB { get; set; } = 512;

    /// <summary>
    /// At most this many CPUs' worth of time (Proxmox's <c>cpulimit</c>): 0.5 is half a CPU, 2 two whole ones, spread
    /// over the VM's vCPUs. Null: no limit beyond its vCPUs. Held by its cgroup (<c>Services/Limits</c>).
    /// </summary>
    public double? CpuLimit { get; set; }

    /// <summary>Its share of the CPUs against other VMs when they compete, 1 to 10000 (Proxmox's <c>cpuunits</c>, cgroup v2's <c>cpu.weight</c>).</summary>
    public int CpuUnits { get; set; } = 100;

    /// <summary>Tasks (processes and threads) its VMM may have; null: no limit of its own.</summary>
    public int? PidsLimit { get; set; }

    /// <summary>The user who created it, whose quota it counts against (null: made before quotas, or by the sample seeder).</summary>
    public string? OwnerId { get; set; }

    public BootMode BootMode { get; set; } = BootMode.Kernel;

    /// <summary>Kernel from the image library; <see cref="KernelPath"/> names a host file instead. One of the two for a kernel boot.</summary>
    public Guid? KernelImageId { get; set; }

    public ImageFile? KernelImage { get; set; }

    /// <summary>Kernel image (bzImage or ELF with a PVH note) as an absolute host path.</summary>
    public string? KernelPath { get; set; }

    public Guid? InitrdImageId { get; set; }

    public ImageFile? InitrdImage { get; set; }

    public string? InitrdPath { get; set; }

    public string? CommandLine { get; set; }

    /// <summary>In boot order: with <see cref="BootMode.Disk"/> the first one is the boot disk.</summary>
    public List<VmDisk> Disks { get; set; } = [];

    public List<VmNic> Nics { get; set; } = [];

    /// <summary>
    /// The VM has a DVD/CD-ROM drive (ATAPI on an AHCI controller, platform-vmm's <c>cdrom</c>), with
    /// <see cref="CdromImage"/> in it or empty.
    /// </summary>
    public bool HasCdrom { get; set; }

    /// <summary>The ISO image from the library in the drive; null: the drive is empty (or there is none). Follows Insert and Eject.</summary>
    public Guid? CdromImageId { get; set; }

    public ImageFile? CdromImage { get; set; }

    /// <summary>
    /// With <see cref="BootMode.Firmware"/>: the order the BIOS tries the boot devices in (vm.json's <c>boot_order</c>);
    /// null: the VMM's default, the disks and then the CD-ROM. Always null for the other boot modes.
    /// </summary>
    public List<BootDevice>? BootOrder { get; set; }

    /// <summary>The cloud-init seed the VM gets as its last disk; null: none.</summary>
    public VmCloudInit? CloudInit { get; set; }

    /// <summary>
    /// A template: never started, its disks never change, and new VMs are made from it as linked clones (qcow2 overlays
    /// whose backing files are its disks) or full copies.
    /// </summary>
    public bool IsTemplate { get; set; }

    /// <summary>The template this VM is a linked clone of: its own disks' backing files are that template's disks.</summary>
    public Guid? TemplateId { get; set; }

    public bool DisplayEnabled { get; set; } = true;

    /// <summary>
    /// The display's keyboard and pointer (platform-vmm's <c>--input</c>): a virtio tablet and keyboard, or the PS/2
    /// keyboard alone. Null exactly when there is no display, which brings no input devices.
    /// </summary>
    public InputKind? Input { get; set; } = InputKind.Virtio;

    public bool Autostart { get; set; }

    /// <summary>
    /// The host that runs it (<c>Platform:Cluster:HostName</c>): its commands go to that host's supervisor, and only
    /// that host autostarts it (docs/cluster.md). Null on a single host, which runs every VM; in a cluster, a VM made
    /// before it joined one, which any host's dashboard runs as its own as before.
    /// </summary>
    public string? HostName { get; set; }

    /// <summary>What the VMM does when the guest resets: platform-vmm's <c>--on-reboot</c>.</summary>
    public RebootPolicy OnReboot { get; set; } = RebootPolicy.Restart;

    /// <summary>What the supervisor does when the VMM ends without the VM having shut down (libvirt's <c>on_crash</c>).</summary>
    public CrashPolicy OnCrash { get; set; } = CrashPolicy.Stay;

    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;

    public DateTimeOffset UpdatedAt { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>Changes on every save, so two people editing one VM are told instead of silently merged.</summary>
    public Guid ConcurrencyStamp { get; set; } = Guid.NewGuid();
}

/// <summary>
/// What the supervisor does after a crash: the VMM ended without a SHUTDOWN (killed, exited, or the guest died with
/// GUEST_PANICKED). A guest that powers off, and a Stop or Shutdown from a user, are not crashes.
/// </summary>
public enum CrashPolicy
{
    /// <summary>The VM stays Crashed until someone starts it.</summary>
    Stay,
    /// <summary>
    /// The supervisor starts it again after a pause that doubles with each crash, and leaves it Crashed once it has
    /// crashed too often in a while (<c>SupervisorOptions.CrashRestart*</c>).
    /// </summary>
    Restart,
}

/// <summary>Where a VM boots from.</summary>
public enum BootMode
{
    /// <summary>Direct Linux boot: kernel, optional initrd and a command line (what platform-vmm does today).</summary>
    Kernel,
    /// <summary>From the first disk: platform-vmm's <c>--boot disk</c> reads its boot configuration and loads the kernel it names.</summary>
    Disk,
    /// <summary>
    /// Firmware (SeaBIOS, platform-vmm's <c>--firmware bios</c>) boots the disks and the CD-ROM as a PC does, in
    /// <see cref="VirtualMachine.BootOrder"/>: installer ISOs and any OS, not only Linux.
    /// </summary>
    Firmware,
}
