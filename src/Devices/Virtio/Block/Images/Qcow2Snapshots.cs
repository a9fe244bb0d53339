using Platform.Devices.Virtio.Block.Qcow2;

namespace Platform.Devices.Virtio.Block.Images;

/// <summary>
/// Internal snapshots of a qcow2 image (qcow2.txt, "Snapshots"), the ones <c>qemu-img snapshot -c/-l/-a/-d</c> make,
/// list, apply and delete: a snapshot is a copy of the L1 table with every cluster it reaches counted once more, so
/// later writes to the image copy those clusters instead of overwriting them. Changes need an image no VM has open;
/// listing needs one no VM writes. How each change survives a crash: <see cref="Qcow2BlockBackend"/>'s Snapshots part.
/// </summary>
public static class Qcow2Snapshots
{
    /// <summary>Longest snapshot name we accept (names are for people; QEMU's limit is the entry's 16-bit length).</summary>
    public const int MaxNameLength = 128;

    /// <summary>The snapshots in the image, in table order. A raw image is refused with <see cref="DiskImageException"/>.</summary>
    public static IReadOnlyList<Qcow2SnapshotInfo> List(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var handle = DiskImages.OpenForMaintenance(path, writable: false);
        RefuseRaw(path, DiskImageProbe.Detect(handle));
        var header = Qcow2HeaderReader.Read(handle, path);
        var file = new Qcow2ImageFile(handle, alignment: 1);
        return [.. Qcow2SnapshotTable.Read(file, header, header.SnapshotCount, header.SnapshotsOffset)
            .Select(e => new Qcow2SnapshotInfo(e.Id, e.Name, e.Created, e.DiskSize ?? header.Size, e.VmStateSize))];
    }

    /// <summary>Takes a snapshot of the image as it is now; a name already used is refused.</summary>
    public static void Create(string path, string name)
    {
        CheckName(path, name);
        using var image = OpenQcow2(path);
        image.CreateSnapshot(name, DateTimeOffset.UtcNow);
    }

    /// <summary>Makes the image what it was when the snapshot was taken (its size too); the snapshot stays.</summary>
    public static void Revert(string path, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(name);
        using var image = OpenQcow2(path);
        image.RevertToSnapshot(name);
    }

    /// <summary>Deletes the snapshot and frees the clusters only it used.</summary>
    public static void Delete(string path, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(name);
        using var image = OpenQcow2(path);
        image.DeleteSnapshot(name);
    }

    /// <summary>Refuses an empty or over-long name, or one with control characters, with the reason.</summary>
    public static void CheckName(string path, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(name);
        if (string.IsNullOrWhiteSpace(name) || name.Trim() != name)
        {
            throw new DiskImageException($"{path}: a snapshot needs a name, without spaces at either end.");
        }

        if (name.Length > MaxNameLength)
        {
            throw new DiskImageException($"{path}: a snapshot name has at most {MaxNameLength} characters.");
        }

        if (name.Any(char.IsControl))
        {
            throw new DiskImageException($"{path}: a snapshot name may not contain control characters.");
        }
    }

    private static Qcow2BlockBackend OpenQcow2(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var disk = DiskImageResizer.OpenWritable(path);
        if (disk is Qcow2BlockBackend qcow2)
        {
            return qcow2;
        }

        disk.Dispose();
        throw NotQcow2(path);
    }

    private static void RefuseRaw(string path, DiskImageFormat format)
    {
        if (format != DiskImageFormat.Qcow2)
        {
            throw NotQcow2(path);
        }
    }

    private static DiskImageException NotQcow2(string path) =>
        new($"{path} is a raw image; snapshots need a qcow2 image. Convert it first: qemu-img convert -f raw -O qcow2 IN OUT.");
}
