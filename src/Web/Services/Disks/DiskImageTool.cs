using System.Buffers.Binary;
using Platform.Devices.Virtio.Block;
using Platform.Devices.Virtio.Block.Images;
using Platform.Web.Data;

namespace Platform.Web.Services.Disks;

/// <summary><see cref="IDiskImageTool"/> over the VMM's own disk image library (<c>src/Devices/Virtio/Block/Images</c>).</summary>
public sealed class DiskImageTool : IDiskImageTool
{
    public void Create(string path, long sizeBytes, ImageFormat format, DiskPreallocation preallocation) =>
        DiskImageCreator.Create(path, sizeBytes, ToDevices(format), preallocation switch
        {
            DiskPreallocation.Metadata => Preallocation.Metadata,
            DiskPreallocation.Full => Preallocation.Full,
            _ => Preallocation.Off,
        });

    public void Grow(string path, long newSizeBytes) => DiskImageResizer.Grow(path, newSizeBytes);

    /// <summary>
    /// Reads the format and virtual size from the file's first bytes without opening it as a disk: no lock, so a running
    /// VMM's disks are described too (and a size the VMM just grew is seen at once). Not a check: the VMM checks at open.
    /// </summary>
    public DiskFileFacts Describe(string path)
    {
        using var file = HostFileNative.OpenUnlocked(path);
        Span<byte> header = stackalloc byte[32];
        int read = RandomAccess.Read(file, header, 0);
        bool qcow2 = read >= 32 && BinaryPrimitives.ReadUInt32BigEndian(header) == DiskImageProbe.Qcow2Magic;
        long size = qcow2 ? (long)BinaryPrimitives.ReadUInt64BigEndian(header[24..]) : RandomAccess.GetLength(file);
        return new DiskFileFacts(qcow2 ? ImageFormat.Qcow2 : ImageFormat.Raw, size, HostFileNative.AllocatedBytes(path));
    }

    public IReadOnlyList<DiskSnapshotFacts> ListSnapshots(string path) =>
        [.. Qcow2Snapshots.List(path).Select(s => new DiskSnapshotFacts(s.Name, s.Created, s.VirtualSizeBytes, s.VmStateSizeBytes))];

    public void CreateSnapshot(string path, string name) => Qcow2Snapshots.Create(path, name);

    public void RevertSnapshot(string path, string name) => Qcow2Snapshots.Revert(path, name);

    public void DeleteSnapshot(string path, string name) => Qcow2Snapshots.Delete(path, name);

    private static DiskImageFormat ToDevices(ImageFormat format) => format == ImageFormat.Qcow2 ? DiskImageFormat.Qcow2 : DiskImageFormat.Raw;
}
