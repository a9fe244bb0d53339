namespace Platform.Devices.Virtio.Block.Images;

/// <summary>One internal snapshot of a qcow2 image, as <c>qemu-img snapshot -l</c> lists it.</summary>
/// <param name="Id">QEMU's numeric id ("1", "2"…), unique in the image.</param>
/// <param name="Name">The name people gave it, unique in the images we write.</param>
/// <param name="Created">When it was taken (the entry's date).</param>
/// <param name="VirtualSizeBytes">The disk's size when it was taken (a revert brings that size back).</param>
/// <param name="VmStateSizeBytes">Saved VM state in the snapshot (0 for disk-only snapshots, which are all we take).</param>
public sealed record Qcow2SnapshotInfo(string Id, string Name, DateTimeOffset Created, long VirtualSizeBytes, long VmStateSizeBytes);
