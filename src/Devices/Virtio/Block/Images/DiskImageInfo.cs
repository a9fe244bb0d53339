namespace Platform.Devices.Virtio.Block.Images;

/// <summary>What <c>qemu-img info</c> says about an image that people need: its format and sizes.</summary>
/// <param name="Path">The file, as given.</param>
/// <param name="Format">Raw or qcow2 (detected from the first bytes).</param>
/// <param name="VirtualSizeBytes">Bytes the guest sees.</param>
/// <param name="AllocatedBytes">Host bytes the file takes on disk (its allocated blocks: a sparse file's holes are free), as
/// <c>qemu-img info</c>'s <c>actual-size</c>.</param>
/// <param name="FileBytes">The file's length (holes included).</param>
/// <param name="Snapshots">qcow2: internal snapshots in the image; raw: 0.</param>
/// <param name="BackingFile">qcow2: the backing file name as stored, or null.</param>
public sealed record DiskImageInfo(
    string Path, DiskImageFormat Format, long VirtualSizeBytes, long AllocatedBytes, long FileBytes, int Snapshots, string? BackingFile);
