using System.Buffers.Binary;
using Platform.Devices.Virtio.Block;
using Platform.Devices.Virtio.Block.Qcow2;
using Platform.Web.Data;

namespace Platform.Web.Services.Disks;

/// <summary><see cref="IDiskImageTool"/> over the VMM's own disk image code (<c>src/Devices/Virtio/Block</c>).</summary>
public sealed class DiskImageTool : IDiskImageTool
{
    public void Create(string path, long sizeBytes, ImageFormat format, DiskPreallocation preallocation)
    {
        // Made under a temporary name, flushed, then renamed: a half-made disk never sits under the real name.
        string temporary = Path.Combine(Path.GetDirectoryName(path)!, $".new-{Guid.NewGuid():N}");
        try
        {
            if (format == ImageFormat.Qcow2)
            {
                if (preallocation != DiskPreallocation.Off)
                {
                    throw new IOException("Preallocated qcow2 disks are not made yet; use preallocation off.");
                }

                Qcow2Creator.Create(temporary, sizeBytes);
            }
            else
            {
                using var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write);
                file.SetLength(sizeBytes);
                if (preallocation == DiskPreallocation.Full)
                {
                    byte[] zeros = new byte[1 << 20];
                    for (long at = 0; at < sizeBytes; at += zeros.Length)
                    {
                        file.Write(zeros, 0, (int)Math.Min(zeros.Length, sizeBytes - at));
                    }
                }

                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: false);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    public void Grow(string path, long newSizeBytes) =>
        throw new IOException("Growing a disk comes with the disk image library, which this build does not have yet.");

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

    public IReadOnlyList<DiskSnapshotFacts> ListSnapshots(string path) => [];

    public void CreateSnapshot(string path, string name) => throw NoSnapshots();

    public void RevertSnapshot(string path, string name) => throw NoSnapshots();

    public void DeleteSnapshot(string path, string name) => throw NoSnapshots();

    private static IOException NoSnapshots() => new("Snapshots come with the disk image library, which this build does not have yet.");
}
