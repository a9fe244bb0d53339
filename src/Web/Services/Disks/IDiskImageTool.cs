using Platform.Web.Data;

namespace Platform.Web.Services.Disks;

/// <summary>How much of a new disk is written out at once, as <c>qemu-img create -o preallocation=</c> names it.</summary>
public enum DiskPreallocation
{
    /// <summary>Nothing: the file takes space as the guest writes (sparse).</summary>
    Off,
    /// <summary>qcow2 only: the image's tables for the whole disk, so later writes only add data.</summary>
    Metadata,
    /// <summary>Every byte written (zeros): the space is the disk's from the start.</summary>
    Full,
}

/// <summary>A disk file as found now: its format, the size the guest sees, and the bytes the host file system gives it.</summary>
public sealed record DiskFileFacts(ImageFormat Format, long VirtualSizeBytes, long AllocatedBytes);

/// <summary>One internal snapshot of a qcow2 image (what <c>qemu-img snapshot -l</c> lists).</summary>
public sealed record DiskSnapshotFacts(string Name, DateTimeOffset Created, long VirtualSizeBytes, long VmStateSizeBytes);

/// <summary>
/// What the dashboard does to disk files: the one seam between its services and the disk image library
/// (<c>src/Devices/Virtio/Block/Images</c>: the VMM's own raw and qcow2 code), so the rules above it are tested on real
/// files. Every method works on a file no VMM has open; failures are <see cref="IOException"/>s whose message says why.
/// </summary>
public interface IDiskImageTool
{
    /// <summary>Makes a new disk at <paramref name="path"/> (which must not exist): whole and flushed, or not at all.</summary>
    void Create(string path, long sizeBytes, ImageFormat format, DiskPreallocation preallocation);

    /// <summary>Grows the disk to <paramref name="newSizeBytes"/>; a smaller size is refused.</summary>
    void Grow(string path, long newSizeBytes);

    DiskFileFacts Describe(string path);

    IReadOnlyList<DiskSnapshotFacts> ListSnapshots(string path);

    void CreateSnapshot(string path, string name);

    void RevertSnapshot(string path, string name);

    void DeleteSnapshot(string path, string name);
}
