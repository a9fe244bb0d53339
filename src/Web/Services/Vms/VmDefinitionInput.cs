using Platform.Web.Data;
using Platform.Web.Services.CloudInit;
using Platform.Web.Services.Disks;

namespace Platform.Web.Services.Vms;

/// <summary>
/// A VM definition as a user gives it, in the API's request body and behind the wizard's form: the same shape,
/// checked by the same rules (<see cref="VmDefinitionRules"/>, then <see cref="VmService"/> for what needs the
/// database). Mutable so forms can bind to it.
/// </summary>
public sealed class VmDefinitionInput
{
    public string Name { get; set; } = "";

    public string? Description { get; set; }

    public int VcpuCount { get; set; } = 1;

    public int MemoryMiB { get; set; } = 512;

    /// <summary>At most this many CPUs' worth of time (Proxmox's <c>cpulimit</c>, 0.01 to the vCPU count); null: no limit.</summary>
    public double? CpuLimit { get; set; }

    /// <summary>Relative CPU weight against other VMs, 1 to 10000 (Proxmox's <c>cpuunits</c>).</summary>
    public int CpuUnits { get; set; } = 100;

    /// <summary>Tasks (processes and threads) the VM's VMM may have; null: no limit of its own.</summary>
    public int? PidsLimit { get; set; }

    public BootMode BootMode { get; set; } = BootMode.Kernel;

    /// <summary>A kernel from the image library, or <see cref="KernelPath"/>: exactly one for a kernel boot.</summary>
    public Guid? KernelImageId { get; set; }

    public string? KernelPath { get; set; }

    public Guid? InitrdImageId { get; set; }

    public string? InitrdPath { get; set; }

    public string? CommandLine { get; set; } = "console=ttyS0";

    public List<VmDiskInput> Disks { get; set; } = [];

    /// <summary>A DVD/CD-ROM drive: null, none; with no <see cref="VmCdromInput.ImageId"/>, an empty drive.</summary>
    public VmCdromInput? Cdrom { get; set; }

    /// <summary>
    /// With <see cref="BootMode.Firmware"/>: the devices the BIOS tries, in order (each at most once, only devices the VM
    /// has); null: the disks, then the CD-ROM. Ignored (and dropped) for the other boot modes.
    /// </summary>
    public List<BootDevice>? BootOrder { get; set; }

    public List<VmNicInput> Nics { get; set; } = [];

    public bool DisplayEnabled { get; set; } = true;

    /// <summary>
    /// The display's input devices. Only with a display: left out (null) there, it means virtio, platform-vmm's
    /// default; without a display it must be left out (<see cref="VmDefinitionRules.CheckInput"/>).
    /// </summary>
    public InputKind? Input { get; set; }

    public bool Autostart { get; set; }

    /// <summary>
    /// The host the VM runs on, in a cluster (<c>GET /api/v1/hosts</c> lists them): a new VM goes to the active host
    /// named, or to the host whose dashboard made it when left out. An edit may send the VM's own host or none; a VM
    /// does not move between hosts yet.
    /// </summary>
    public string? Host { get; set; }

    public RebootPolicy OnReboot { get; set; } = RebootPolicy.Restart;

    public CrashPolicy OnCrash { get; set; } = CrashPolicy.Stay;

    /// <summary>
    /// cloud-init settings to set with the definition (the wizard's step, <c>POST /api/v1/vms</c>'s <c>cloudInit</c>);
    /// null leaves the VM's as they are (<c>/api/v1/vms/{id}/cloud-init</c> changes them on their own).
    /// </summary>
    public CloudInitInput? CloudInit { get; set; }

    /// <summary>The files of own disks this change removes stay in the VM's folder (a detach with "keep the file").</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    internal bool KeepRemovedFiles { get; set; }

    public static VmDefinitionInput From(VirtualMachine vm) => new()
    {
        Name = vm.Name,
        Description = vm.Description,
        VcpuCount = vm.VcpuCount,
        MemoryMiB = vm.MemoryMiB,
        CpuLimit = vm.CpuLimit,
        CpuUnits = vm.CpuUnits,
        PidsLimit = vm.PidsLimit,
        BootMode = vm.BootMode,
        KernelImageId = vm.KernelImageId,
        KernelPath = vm.KernelPath,
        InitrdImageId = vm.InitrdImageId,
        InitrdPath = vm.InitrdPath,
        CommandLine = vm.CommandLine,
        Disks = vm.Disks.OrderBy(d => d.Position)
            .Select(d => new VmDiskInput { Id = d.Id, ImageId = d.ImageId, Path = d.Path, ReadOnly = d.ReadOnly, Cache = d.Cache, Bus = d.Bus, LinkedClone = d.LinkedClone, MaxBytesPerSecond = d.MaxBytesPerSecond, MaxIops = d.MaxIops })
            .ToList(),
        Nics = vm.Nics.OrderBy(n => n.Position).Select(n => new VmNicInput
        {
            NetworkId = n.NetworkId, TapName = n.TapName, MacAddress = n.MacAddress,
            PortForwards = [.. n.PortForwards.Select(f => new VmPortForward { Protocol = f.Protocol, HostAddress = f.HostAddress, HostPort = f.HostPort, GuestPort = f.GuestPort })],
        }).ToList(),
        Cdrom = vm.HasCdrom ? new VmCdromInput { ImageId = vm.CdromImageId } : null,
        BootOrder = vm.BootOrder?.ToList(),
        DisplayEnabled = vm.DisplayEnabled,
        Input = vm.DisplayEnabled ? vm.Input ?? InputKind.Virtio : null,
        Autostart = vm.Autostart,
        Host = vm.HostName,
        OnReboot = vm.OnReboot,
        OnCrash = vm.OnCrash,
    };
}

public sealed class VmDiskInput
{
    /// <summary>
    /// The VM's existing disk this entry is (as <c>GET /api/v1/vms/{id}</c> lists them): the disk keeps what is its own —
    /// its file if it is the VM's own disk, its linked-clone overlay — wherever the entry moves it. Alone (no image, path
    /// or blank) it names one of the VM's own disks. Left out, an image or path disk takes the row at its position.
    /// </summary>
    public Guid? Id { get; set; }

    /// <summary>A disk image from the library, or <see cref="Path"/>, or <see cref="Blank"/>: at most one (none with an <see cref="Id"/> of an own disk).</summary>
    public Guid? ImageId { get; set; }

    public string? Path { get; set; }

    /// <summary>A new, empty disk of the VM's own, made when the definition is saved.</summary>
    public BlankDiskInput? Blank { get; set; }

    /// <summary>
    /// A disk file made for the VM before it exists (a clone's copy or overlay), moved into its folder as its own disk
    /// when the definition is saved. Never from a request body: only <see cref="VmCloneService"/> sets it.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    internal AdoptedDisk? Adopt { get; set; }

    public bool ReadOnly { get; set; }

    /// <summary>
    /// True on the cloud-init seed's entry that <c>GET /api/v1/vms/{id}</c> lists last. Such an entry is dropped, not
    /// stored: the seed comes from the cloud-init settings, so a PUT of what GET gave still binds.
    /// </summary>
    public bool CloudInitSeed { get; set; }

    public DiskCacheMode Cache { get; set; } = DiskCacheMode.Writeback;

    /// <summary>virtio (default) or sata: a SATA disk on the AHCI controller (see <see cref="Data.VmDisk.Bus"/>).</summary>
    public DiskBus Bus { get; set; } = DiskBus.Virtio;

    /// <summary>Bytes a second, reads and writes together; null: unlimited (see <see cref="Data.VmDisk.MaxBytesPerSecond"/>).</summary>
    public long? MaxBytesPerSecond { get; set; }

    /// <summary>Requests a second; null: unlimited.</summary>
    public int? MaxIops { get; set; }

    /// <summary>
    /// With <see cref="ImageId"/>: a qcow2 overlay of the image for this VM alone (see <see cref="Data.VmDisk.LinkedClone"/>);
    /// ignored for a host path (the editor's new disks say true, for whichever image is picked).
    /// </summary>
    public bool LinkedClone { get; set; }
}

/// <summary>A VM's DVD/CD-ROM drive.</summary>
public sealed class VmCdromInput
{
    /// <summary>An ISO image from the library in the drive; null: the drive is empty.</summary>
    public Guid? ImageId { get; set; }
}

public sealed class VmNicInput
{
    /// <summary>The network the NIC joins (<see cref="Network.DefaultId"/> is the NAT every installation has); or…</summary>
    public Guid? NetworkId { get; set; }

    /// <summary>…a host TAP device someone else made (administrators only).</summary>
    public string? TapName { get; set; }

    /// <summary>Empty: one is generated (52:54:00:…) when the VM is saved.</summary>
    public string? MacAddress { get; set; }

    /// <summary>On a NAT network: host ports forwarded to the guest.</summary>
    public List<VmPortForward> PortForwards { get; set; } = [];

    /// <summary>A NIC on the default NAT network: what a new VM gets.</summary>
    public static VmNicInput OnDefaultNetwork() => new() { NetworkId = Network.DefaultId };
}

/// <summary>A disk file at <paramref name="Path"/>, of <paramref name="Format"/>, that a new VM takes as its own.</summary>
internal sealed record AdoptedDisk(string Path, ImageFormat Format);
