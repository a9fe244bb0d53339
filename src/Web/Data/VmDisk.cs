namespace Platform.Web.Data;

/// <summary>One disk of a VM (virtio-blk or SATA): an image from the library, a host file, or a disk file of the VM's own.</summary>
public sealed class VmDisk
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public Guid VirtualMachineId { get; set; }

    /// <summary>0-based boot order within the VM.</summary>
    public int Position { get; set; }

    /// <summary>
    /// A disk image from the library; <see cref="Path"/> names a host file instead, <see cref="FileName"/> a file of the
    /// VM's own. Exactly one of the three is set.
    /// </summary>
    public Guid? ImageId { get; set; }

    public ImageFile? Image { get; set; }

    public string? Path { get; set; }

    public bool ReadOnly { get; set; }

    /// <summary>
    /// With an <see cref="ImageId"/>: the VM gets a qcow2 overlay of its own whose backing file is the library image (a
    /// linked clone), created on first start under <c>{DataDirectory}/disks/{vm id}/</c>; the image itself is never
    /// written. Without it the VM reads and writes the library image directly.
    /// </summary>
    public bool LinkedClone { get; set; }

    public DiskCacheMode Cache { get; set; } = DiskCacheMode.Writeback;

    /// <summary>
    /// The controller the guest finds the disk on: virtio-blk (fast; Linux has the driver) or a SATA disk on the AHCI
    /// controller, which installers without virtio drivers (Windows, the BSDs) see.
    /// </summary>
    public DiskBus Bus { get; set; } = DiskBus.Virtio;

    /// <summary>Reads and writes together at most this many bytes a second (Proxmox's <c>mbps</c>, QEMU's <c>throttle.bps-total</c>); null: unlimited.</summary>
    public long? MaxBytesPerSecond { get; set; }

    /// <summary>Requests a second, reads and writes together (QEMU's <c>throttle.iops-total</c>); null: unlimited.</summary>
    public int? MaxIops { get; set; }

    /// <summary>
    /// The VM's own disk (a blank disk made for it): a file of this name in <c>{DataDirectory}/disks/{vm id}/</c>, made by
    /// the dashboard and deleted with the VM (unless kept) or when it is detached. No one else uses it.
    /// </summary>
    public string? FileName { get; set; }

    /// <summary>With <see cref="FileName"/>: how the file stores the disk, as made (the VMM is told, never left to guess).</summary>
    public ImageFormat? Format { get; set; }
}

/// <summary>How the VMM opens a disk file, as QEMU's <c>cache=</c>.</summary>
public enum DiskCacheMode
{
    /// <summary>Through the host page cache; a guest flush becomes <c>fsync</c>.</summary>
    Writeback,
    /// <summary><c>O_DIRECT</c>: bypasses the host page cache; a guest flush still becomes <c>fsync</c>.</summary>
    None,
}
