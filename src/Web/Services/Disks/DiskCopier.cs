using Platform.Devices.Virtio.Block;
using Platform.Devices.Virtio.Block.Qcow2;
using Platform.Web.Data;

namespace Platform.Web.Services.Disks;

/// <summary>
/// A full copy of a disk into a new qcow2 image of its own: read through the source's format and backing chain (so a
/// linked clone comes out whole, with no backing file), streamed a chunk at a time, and sparse: a 64 KiB cluster that
/// reads as zeros is left unallocated, as <c>qemu-img convert</c> leaves it. Reports the bytes gone through and stops
/// between chunks when cancelled. The copy is made under a temporary name, flushed and renamed: the destination is
/// whole or absent, whatever happens.
/// </summary>
public static class DiskCopier
{
    /// <summary>Bytes read at once: large enough to stream, small enough that a cancel or a progress bar is prompt.</summary>
    public const int ChunkBytes = 1 << 20;

    private const int ClusterBytes = 1 << Qcow2Creator.DefaultClusterBits;

    /// <summary>The size the copy of <paramref name="source"/> has: what the guest sees, without a raw file's odd tail.</summary>
    public static long SizeOf(string source, ImageFormat? format)
    {
        using var from = Open(source, format);
        return from.Length - from.Length % 512;
    }

    /// <summary>
    /// Copies <paramref name="source"/> (its format, or null to detect it) to <paramref name="destination"/>, which must not
    /// exist. Throws <see cref="IOException"/> saying why a read or write failed, <see cref="OperationCanceledException"/>
    /// when cancelled; either way nothing is left at <paramref name="destination"/>.
    /// </summary>
    public static void Copy(string source, ImageFormat? format, string destination, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        if (File.Exists(destination))
        {
            throw new IOException($"{destination} exists already; a copy never replaces a file.");
        }

        string folder = Path.GetDirectoryName(Path.GetFullPath(destination))!;
        string temporary = Path.Combine(folder, $".copy-{Guid.NewGuid():N}.qcow2");
        try
        {
            using (var from = Open(source, format))
            {
                long size = from.Length - from.Length % 512;
                if (size <= 0)
                {
                    throw new IOException($"{source} is smaller than one sector; it cannot be a disk.");
                }

                Qcow2Creator.Create(temporary, size);
                using var to = DiskImages.Open(new DiskOptions(temporary, Format: DiskImageFormat.Qcow2));
                byte[] buffer = new byte[ChunkBytes];
                for (long offset = 0; offset < size;)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    int length = (int)Math.Min(ChunkBytes, size - offset);
                    var chunk = buffer.AsSpan(0, length);
                    if (!from.Read(offset, chunk))
                    {
                        throw new IOException($"Reading {source} at byte {offset} failed: {from.LastError}");
                    }

                    for (int at = 0; at < length; at += ClusterBytes)
                    {
                        var cluster = chunk.Slice(at, Math.Min(ClusterBytes, length - at));
                        if (cluster.ContainsAnyExcept((byte)0) && !to.Write(offset + at, cluster))
                        {
                            throw new IOException($"Writing the copy at byte {offset + at} failed: {to.LastError}");
                        }
                    }

                    offset += length;
                    progress?.Report(offset);
                }

                if (!to.Flush())
                {
                    throw new IOException($"The copy could not be flushed to disk: {to.LastError}");
                }
            }

            File.Move(temporary, destination);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    private static IBlockBackend Open(string source, ImageFormat? format) => DiskImages.Open(new DiskOptions(source, ReadOnly: true,
        Format: format switch { ImageFormat.Qcow2 => DiskImageFormat.Qcow2, ImageFormat.Raw => DiskImageFormat.Raw, _ => null }));
}
