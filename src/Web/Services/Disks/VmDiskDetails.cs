using Platform.Web.Data;

namespace Platform.Web.Services.Disks;

/// <summary>
/// One disk as it is now: the file the VM reads and writes (its own disk, its linked-clone overlay, the library image or
/// the host file), its format, the size the guest sees and the bytes it takes; <see cref="Problem"/> when the file
/// cannot be read (missing, say). <see cref="Writable"/>: the file is this VM's alone, so it may be grown and snapshotted.
/// </summary>
public sealed record VmDiskDetails(VmDisk Disk, string FilePath, bool Writable, ImageFormat? Format, long? VirtualSizeBytes, long? AllocatedBytes, string? Problem);
