using Platform.Web.Data;
using Platform.Web.Services.CloudInit;
using Platform.Web.Services.Disks;
using Platform.Web.Services.Host;
using Platform.Web.Services.Images;
using Platform.Web.Services.Runtime;

namespace Platform.Web.Endpoints;

/// <summary>A VM as the API shows it: the stored definition, its <see cref="Version"/> (also sent as the ETag) and
/// its power state now. Requests send a <c>VmDefinitionInput</c>: the same fields less the read-only ones.
/// <see cref="Input"/> is null exactly when the VM has no display.</summary>
public sealed record VmResponse(
    Guid Id, string Name, string? Description, int VcpuCount, int MemoryMiB, double? CpuLimit, int CpuUnits, int? PidsLimit, BootMode BootMode,
    Guid? KernelImageId, string? KernelImageFileName, string? KernelPath,
    Guid? InitrdImageId, string? InitrdImageFileName, string? InitrdPath, string? CommandLine,
    IReadOnlyList<VmDiskResponse> Disks, IReadOnlyList<VmNicResponse> Nics,
    bool DisplayEnabled, InputKind? Input, bool Autostart, RebootPolicy OnReboot, CrashPolicy OnCrash,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, Guid Version, VmPowerState State)
{
    /// <summary>A template: never started; new VMs are made of it (<c>POST /api/v1/vms/{id}/clone</c>).</summary>
    public bool IsTemplate { get; init; }

    /// <summary>The template this VM is a linked clone of.</summary>
    public Guid? TemplateId { get; init; }

    /// <summary>
    /// Whether the VM gets a cloud-init seed (<c>GET /api/v1/vms/{id}/cloud-init</c> has the settings). Not named like the
    /// request's <c>cloudInit</c> object, so a PUT of what GET gave still binds.
    /// </summary>
    public bool CloudInitEnabled { get; init; }

    /// <summary>The DVD/CD-ROM drive and the ISO image the definition puts in it; null: the VM has no drive.</summary>
    public VmCdromResponse? Cdrom { get; init; }

    /// <summary>With boot mode Firmware: the order the BIOS boots devices in; null: the disks, then the CD-ROM.</summary>
    public IReadOnlyList<BootDevice>? BootOrder { get; init; }

    /// <summary>The host that runs it, in a cluster (its commands go there); null on a single host, which runs every VM.</summary>
    public string? Host { get; init; }

    public static VmResponse From(VirtualMachine vm, VmPowerState state) => new(
        vm.Id, vm.Name, vm.Description, vm.VcpuCount, vm.MemoryMiB, vm.CpuLimit, vm.CpuUnits, vm.PidsLimit, vm.BootMode,
        vm.KernelImageId, vm.KernelImage?.FileName, vm.KernelPath,
        vm.InitrdImageId, vm.InitrdImage?.FileName, vm.InitrdPath, vm.CommandLine,
        vm.Disks.OrderBy(d => d.Position)
            .Select(VmDiskResponse.From).ToList(),
        vm.Nics.OrderBy(n => n.Position).Select(n => new VmNicResponse(n.Position, n.NetworkId, n.Network?.Name, n.TapName, n.MacAddress, n.PortForwards)).ToList(),
        vm.DisplayEnabled, vm.DisplayEnabled ? vm.Input ?? InputKind.Virtio : null, vm.Autostart, vm.OnReboot, vm.OnCrash, vm.CreatedAt, vm.UpdatedAt, vm.ConcurrencyStamp, state)
    {
        IsTemplate = vm.IsTemplate, TemplateId = vm.TemplateId, CloudInitEnabled = vm.CloudInit is { Enabled: true },
        Cdrom = vm.HasCdrom ? new VmCdromResponse(vm.CdromImageId, vm.CdromImage?.FileName, vm.CdromImage?.VolumeLabel) : null,
        BootOrder = vm.BootOrder,
        Host = vm.HostName,
    };

    /// <summary>
    /// The VM with each disk's file as it is now (<see cref="VmDiskService.Describe"/>): format, virtual size, allocated
    /// bytes, and the file's path when <paramref name="showPaths"/> (administrators: the path names the host's folders).
    /// </summary>
    /// <param name="seed">The cloud-init seed, listed last as the VMM gets it (<see cref="VmDiskResponse.CloudInitSeed"/>); null: none.</param>
    public VmResponse WithDetails(IReadOnlyList<VmDiskDetails> details, bool showPaths, CloudInitSeedDetails? seed = null) => this with
    {
        Disks = [.. Disks.Select(d => details.FirstOrDefault(x => x.Disk.Id == d.Id) is { } found
            ? d with
            {
                Format = found.Format ?? d.Format, VirtualSizeBytes = found.VirtualSizeBytes ?? d.VirtualSizeBytes, AllocatedBytes = found.AllocatedBytes,
                FilePath = showPaths ? found.FilePath : null, Problem = found.Problem,
            }
            : d), .. seed is null ? [] : new[] { VmDiskResponse.Seed(seed, showPaths) }],
    };

    /// <summary>The VM with each NIC's cable as the running VMM has it (<paramref name="links"/>); unchanged when null.</summary>
    public VmResponse WithLinks(IReadOnlyList<Services.Vms.NicLinkState>? links) => links is null ? this : this with
    {
        Nics = [.. Nics.Select(n => links.FirstOrDefault(l => l.Position == n.Position) is { } link ? n with { LinkUp = link.LinkUp } : n)],
    };
}

/// <summary>A disk: a library image (<see cref="ImageId"/>), a host file (<see cref="Path"/>) or the VM's own (<see cref="Own"/>).</summary>
public sealed record VmDiskResponse(int Position, Guid? ImageId, string? ImageFileName, string? Path, bool ReadOnly, DiskCacheMode Cache)
{
    /// <summary>The disk's id: PUT sends it back to keep the disk (its own file, its overlay) wherever it moves it.</summary>
    public Guid Id { get; init; }

    /// <summary>The VM has a qcow2 overlay of its own over the library image, which it never writes.</summary>
    public bool LinkedClone { get; init; }

    /// <summary>virtio (a virtio-blk device) or sata (a SATA disk on the AHCI controller).</summary>
    public DiskBus Bus { get; init; }

    /// <summary>The disk's bandwidth limit, reads and writes together; null: none.</summary>
    public long? MaxBytesPerSecond { get; init; }

    /// <summary>The disk's request-rate limit; null: none.</summary>
    public int? MaxIops { get; init; }

    /// <summary>The VM's own disk (a blank disk made for it in the data folder), deleted with the VM unless kept.</summary>
    public bool Own { get; init; }

    public ImageFormat? Format { get; init; }

    /// <summary>The size the guest sees (from the file, in GET /vms/{id}).</summary>
    public long? VirtualSizeBytes { get; init; }

    /// <summary>The bytes the host's file system gives the file (GET /vms/{id} only).</summary>
    public long? AllocatedBytes { get; init; }

    /// <summary>The file the VM reads and writes; shown to administrators (User.Manage) only, in GET /vms/{id}.</summary>
    public string? FilePath { get; init; }

    /// <summary>Why the file could not be read (missing, say); null when it could.</summary>
    public string? Problem { get; init; }

    /// <summary>
    /// The cloud-init seed, the last disk: raw, read-only, made from <c>/cloud-init</c> at each start; not one of the
    /// definition's disks, so a PUT that sends it back leaves it out, and the disk endpoints refuse to change it.
    /// </summary>
    public bool CloudInitSeed { get; init; }

    /// <summary>The seed's entry: no id, image or path of its own; <see cref="Problem"/> says when it is not (yet) current.</summary>
    public static VmDiskResponse Seed(CloudInitSeedDetails seed, bool showPaths) =>
        new(seed.Position, null, CloudInitSeedDetails.Label, null, ReadOnly: true, DiskCacheMode.Writeback)
        {
            CloudInitSeed = true, Format = ImageFormat.Raw, VirtualSizeBytes = seed.SizeBytes, AllocatedBytes = seed.AllocatedBytes,
            FilePath = showPaths ? seed.FilePath : null, Problem = seed.Note,
        };

    public static VmDiskResponse From(VmDisk d) => new(d.Position, d.ImageId, d.Image?.FileName, d.Path, d.ReadOnly, d.Cache)
    {
        Id = d.Id,
        LinkedClone = d.LinkedClone,
        Bus = d.Bus,
        MaxBytesPerSecond = d.MaxBytesPerSecond,
        MaxIops = d.MaxIops,
        Own = d.FileName is not null,
        Format = d.FileName is not null ? d.Format : d.LinkedClone ? ImageFormat.Qcow2 : d.Image?.Format,
        VirtualSizeBytes = d.Image?.VirtualSizeBytes,
    };
}

/// <summary>A DVD/CD-ROM drive as the definition has it: the library's ISO image in it (<see cref="ImageId"/>), or empty.</summary>
public sealed record VmCdromResponse(Guid? ImageId, string? ImageFileName, string? VolumeLabel);

/// <summary>A NIC: on a network (<see cref="NetworkId"/>) or on a host TAP device (<see cref="TapName"/>).</summary>
public sealed record VmNicResponse(int Position, Guid? NetworkId, string? NetworkName, string? TapName, string MacAddress,
    IReadOnlyList<VmPortForward> PortForwards)
{
    /// <summary>
    /// While the VM runs (GET /vms/{id}): whether the NIC's cable is plugged in, as its VMM says
    /// (<c>POST /vms/{id}/nics/{index}/link</c> changes it); null while it does not run. Not part of the definition.
    /// </summary>
    public bool? LinkUp { get; init; }
}

/// <summary>A running VM's NIC and the addresses its guest uses, learnt from the frames it sends (empty until it has sent any).</summary>
public sealed record VmInterfaceResponse(int Position, string Name, string MacAddress, IReadOnlyList<string> Addresses);

/// <summary>The outcome of a power action: the VM's state once the supervisor acknowledged it.</summary>
public sealed record VmPowerResponse(Guid Id, VmPowerState State);

/// <summary>An image with the VMs using it: <see cref="UsedBy"/> names those the caller may see (VM.Audit),
/// <see cref="UsedByOthers"/> counts the rest, so an image in use never looks unused.</summary>
public sealed record ImageResponse(
    Guid Id, ImageKind Kind, string FileName, long SizeBytes, string Sha256, DateTimeOffset UploadedAt, IReadOnlyList<string> UsedBy, int UsedByOthers)
{
    /// <summary>The image as someone who may name only the VMs in <paramref name="visibleVmNames"/> sees it.</summary>
    public static ImageResponse From(ImageUsage usage, IReadOnlySet<string> visibleVmNames)
    {
        var named = usage.UsedBy.Where(visibleVmNames.Contains).ToList();
        return From(usage.Image, named, usage.UsedBy.Count - named.Count);
    }

    public static ImageResponse From(ImageFile image, IReadOnlyList<string> usedBy, int usedByOthers = 0) =>
        new(image.Id, image.Kind, image.FileName, image.SizeBytes, image.Sha256, image.UploadedAt, usedBy, usedByOthers)
        {
            Format = image.Format,
            VirtualSizeBytes = image.VirtualSizeBytes,
            VolumeLabel = image.VolumeLabel,
        };

    /// <summary>Disk images: raw or qcow2, found at upload (null for kernels, initrds and disks stored before formats were recorded).</summary>
    public ImageFormat? Format { get; init; }

    /// <summary>Disk images: the size the guest sees.</summary>
    public long? VirtualSizeBytes { get; init; }

    /// <summary>ISO images: the volume label (ISO 9660 volume identifier), "" when blank; null for other kinds.</summary>
    public string? VolumeLabel { get; init; }

    /// <summary>"web, db and 2 other VMs"; "—" for none.</summary>
    public string DescribeUsers() =>
        UsedBy.Count + UsedByOthers == 0 ? "—"
        : string.Join(", ", UsedBy)
          + (UsedByOthers == 0 ? "" : (UsedBy.Count > 0 ? " and " : "") + $"{UsedByOthers} other VM{(UsedByOthers == 1 ? "" : "s")}");
}

public sealed record VmEventResponse(long Id, DateTimeOffset At, Guid? VmId, string? VmName, string Kind, string Message, VmEventResult Result)
{
    public static VmEventResponse From(VmEvent e) => new(e.Id, e.At, e.VmId, e.VmName, e.Kind, e.Message, e.Result);
}

public sealed record VmEventPageResponse(IReadOnlyList<VmEventResponse> Items, int Total);

public sealed record HostResponse(string CpuModel, int CpuCount, long TotalMemoryMiB, long AvailableMemoryMiB, KvmKind KvmKind, IReadOnlyList<VmPowerResponse> ActiveVms)
{
    public static HostResponse From(HostSnapshot host, IReadOnlyList<VmPowerResponse> active) =>
        new(host.CpuModel, host.CpuCount, host.TotalMemoryMiB, host.AvailableMemoryMiB, host.KvmKind, active);
}
