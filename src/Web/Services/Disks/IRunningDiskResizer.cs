namespace Platform.Web.Services.Disks;

/// <summary>
/// Grows a disk of a running VM through its VMM (the control socket's <c>block_resize</c>, as QEMU's): the VMM grows the
/// file it has open and tells the guest through virtio-blk's configuration change interrupt.
/// </summary>
public interface IRunningDiskResizer
{
    /// <summary>Throws <see cref="Runtime.VmRuntimeException"/> with the VMM's reason when it refuses or cannot be reached.</summary>
    Task ResizeAsync(Guid vmId, int diskPosition, long sizeBytes, CancellationToken cancellationToken);
}
