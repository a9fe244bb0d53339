namespace Platform.Devices.Virtio.Block.Images;

/// <summary>
/// Internal snapshots of a qcow2 image (qcow2.txt, "Snapshots"), the ones <c>qemu-img snapshot -c/-l/-a/-d</c> make,
/// list, apply and delete: a snapshot is a copy of the L1 table with every cluster it reaches counted once more, so
/// later writes to the image copy those clusters instead of overwriting them. Only on an image no VM has open.
/// </summary>
public static class Qcow2Snapshots
{
    /// <summary>Longest snapshot name we accept (QEMU's limit is the entry's 16-bit length; names are for people).</summary>
    public const int MaxNameLength = 128;

    /// <summary>The snapshots in the image, in table order. A raw image is refused with <see cref="DiskImageException"/>.</summary>
    public static IReadOnlyList<Qcow2SnapshotInfo> List(string path) => throw new NotImplementedException();

    /// <summary>Takes a snapshot of the image as it is now; a name already used is refused.</summary>
    public static void Create(string path, string name) => throw new NotImplementedException();

    /// <summary>Makes the image what it was when the snapshot was taken (its size too); the snapshot stays.</summary>
    public static void Revert(string path, string name) => throw new NotImplementedException();

    /// <summary>Deletes the snapshot and frees the clusters only it used.</summary>
    public static void Delete(string path, string name) => throw new NotImplementedException();
}
