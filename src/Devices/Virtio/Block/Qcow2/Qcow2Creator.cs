using System.Buffers.Binary;
using System.Text;

namespace Platform.Devices.Virtio.Block.Qcow2;

/// <summary>
/// Creates empty qcow2 version 3 images, as <c>qemu-img create -f qcow2 [-b BACKING -F FORMAT]</c> does: a header
/// (with the backing file format extension and name when there is a backing file), a one-cluster refcount table, one
/// refcount block and a zeroed L1 table. Every guest cluster starts unallocated, so an overlay reads its backing
/// file until written (a linked clone).
/// </summary>
public static class Qcow2Creator
{
    public const int DefaultClusterBits = 16;

    /// <summary>
    /// Creates <paramref name="path"/> (which must not exist). A relative <paramref name="backingFile"/> is stored as
    /// given and resolved against the new image's folder when it is opened; the caller checks it exists.
    /// </summary>
    public static void Create(string path, long virtualSize, string? backingFile = null, DiskImageFormat backingFormat = DiskImageFormat.Raw,
        int clusterBits = DefaultClusterBits)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (virtualSize <= 0 || virtualSize % 512 != 0 || virtualSize > Qcow2Header.MaxVirtualSize)
        {
            throw new ArgumentOutOfRangeException(nameof(virtualSize), virtualSize, "A virtual size is a positive multiple of 512 bytes.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(clusterBits, 12); // room for header, extensions and a 1023-byte name
        ArgumentOutOfRangeException.ThrowIfGreaterThan(clusterBits, Qcow2Header.MaxClusterBits);
        int clusterSize = 1 << clusterBits;
        long bytesPerL1Entry = 1L << ((2 * clusterBits) - 3);
        long l1Entries = (virtualSize + bytesPerL1Entry - 1) / bytesPerL1Entry;
        if (l1Entries * 8 > Qcow2Header.MaxL1Bytes)
        {
            throw new ArgumentOutOfRangeException(nameof(virtualSize), virtualSize, "Too large for this cluster size.");
        }

        long l1Clusters = Math.Max(1, ((l1Entries * 8) + clusterSize - 1) / clusterSize);
        const long RefcountTableCluster = 1, RefcountBlockCluster = 2, L1Cluster = 3;
        long clusters = L1Cluster + l1Clusters;
        if (clusters > clusterSize * 8 / 16)
        {
            throw new ArgumentOutOfRangeException(nameof(virtualSize), virtualSize, "Too large for this cluster size.");
        }

        byte[] header = new byte[clusterSize];
        var h = header.AsSpan();
        BinaryPrimitives.WriteUInt32BigEndian(h, DiskImageProbe.Qcow2Magic);
        BinaryPrimitives.WriteUInt32BigEndian(h[4..], 3);
        BinaryPrimitives.WriteUInt32BigEndian(h[20..], (uint)clusterBits);
        BinaryPrimitives.WriteUInt64BigEndian(h[24..], (ulong)virtualSize);
        BinaryPrimitives.WriteUInt32BigEndian(h[36..], (uint)l1Entries);
        BinaryPrimitives.WriteUInt64BigEndian(h[40..], (ulong)(L1Cluster * clusterSize));
        BinaryPrimitives.WriteUInt64BigEndian(h[48..], (ulong)(RefcountTableCluster * clusterSize));
        BinaryPrimitives.WriteUInt32BigEndian(h[56..], 1);
        BinaryPrimitives.WriteUInt32BigEndian(h[96..], 4); // 16-bit refcounts, as QEMU's default
        BinaryPrimitives.WriteUInt32BigEndian(h[100..], Qcow2Header.V3MinHeaderLength);
        int at = Qcow2Header.V3MinHeaderLength;
        if (backingFile is not null)
        {
            byte[] name = Encoding.UTF8.GetBytes(backingFile);
            if (name.Length is 0 or > Qcow2Header.MaxBackingNameLength || backingFile.Contains('\0', StringComparison.Ordinal))
            {
                throw new ArgumentException($"A backing file name is 1 to {Qcow2Header.MaxBackingNameLength} bytes.", nameof(backingFile));
            }

            byte[] format = Encoding.ASCII.GetBytes(DiskImageProbe.Name(backingFormat));
            BinaryPrimitives.WriteUInt32BigEndian(h[at..], Qcow2Header.ExtensionBackingFormat);
            BinaryPrimitives.WriteUInt32BigEndian(h[(at + 4)..], (uint)format.Length);
            format.CopyTo(h[(at + 8)..]);
            at += 8 + ((format.Length + 7) & ~7);
            at += 8; // the end-of-extensions marker (zeros)
            BinaryPrimitives.WriteUInt64BigEndian(h[8..], (ulong)at);
            BinaryPrimitives.WriteUInt32BigEndian(h[16..], (uint)name.Length);
            name.CopyTo(h[at..]);
        }

        byte[] refcountTable = new byte[clusterSize];
        BinaryPrimitives.WriteUInt64BigEndian(refcountTable, (ulong)(RefcountBlockCluster * clusterSize));
        byte[] refcountBlock = new byte[clusterSize];
        for (int c = 0; c < clusters; c++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(refcountBlock.AsSpan(c * 2), 1);
        }

        using var file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
        try
        {
            RandomAccess.Write(file, header, 0);
            RandomAccess.Write(file, refcountTable, RefcountTableCluster * clusterSize);
            RandomAccess.Write(file, refcountBlock, RefcountBlockCluster * clusterSize);
            RandomAccess.SetLength(file, clusters * clusterSize); // the L1 table: zeros
            RandomAccess.FlushToDisk(file);
        }
        catch
        {
            file.Dispose();
            File.Delete(path);
            throw;
        }
    }
}
