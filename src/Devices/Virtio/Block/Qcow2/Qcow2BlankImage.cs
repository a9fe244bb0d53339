using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;
using Platform.Devices.Virtio.Block.Images;

namespace Platform.Devices.Virtio.Block.Qcow2;

/// <summary>
/// Writes a blank standalone qcow2 version 3 image into an empty file, laid out as <c>qemu-img create -f qcow2</c>
/// would for any size: header, refcount table, refcount blocks, L1 table, then (with preallocation) every L2 table and
/// every data cluster, each mapped and counted once. 64 KiB clusters and 16-bit refcounts, QEMU's defaults.
/// </summary>
internal static class Qcow2BlankImage
{
    private const int ClusterBits = Qcow2Creator.DefaultClusterBits;
    private const int ClusterSize = 1 << ClusterBits;
    private const int RefcountOrder = 4;
    private const long RefcountsPerBlock = (long)ClusterSize * 8 / (1 << RefcountOrder);
    private const long BytesPerL1Entry = 1L << ((2 * ClusterBits) - 3);
    private const int L2Entries = ClusterSize / 8;
    private const int ChunkBytes = 1 << 20;

    /// <summary>Where each structure lies, in clusters.</summary>
    internal readonly record struct Layout(
        long RefcountTableClusters, long RefcountBlocks, long L1Entries, long L1Clusters, long L2Tables, long DataClusters)
    {
        public const long RefcountTable = 1;

        public long FirstRefcountBlock => RefcountTable + RefcountTableClusters;

        public long L1 => FirstRefcountBlock + RefcountBlocks;

        public long FirstL2 => L1 + L1Clusters;

        public long FirstData => FirstL2 + L2Tables;

        public long TotalClusters => FirstData + DataClusters;

        public long FileBytes => TotalClusters << ClusterBits;
    }

    /// <summary>The layout for a size: counts the refcount blocks and table until they cover themselves too.</summary>
    public static Layout Plan(long virtualSize, Preallocation preallocation)
    {
        long l1Entries = (virtualSize + BytesPerL1Entry - 1) / BytesPerL1Entry;
        long l1Clusters = Math.Max(1, ((l1Entries * 8) + ClusterSize - 1) >> ClusterBits);
        bool mapped = preallocation != Preallocation.Off;
        long l2Tables = mapped ? l1Entries : 0;
        long data = mapped ? (virtualSize + ClusterSize - 1) >> ClusterBits : 0;
        long table = 1, blocks = 1;
        while (true)
        {
            long total = 1 + table + blocks + l1Clusters + l2Tables + data;
            long neededBlocks = (total + RefcountsPerBlock - 1) / RefcountsPerBlock;
            long neededTable = Math.Max(1, ((neededBlocks * 8) + ClusterSize - 1) >> ClusterBits);
            if (neededBlocks <= blocks && neededTable <= table)
            {
                return new Layout(table, blocks, l1Entries, l1Clusters, l2Tables, data);
            }

            blocks = Math.Max(blocks, neededBlocks);
            table = Math.Max(table, neededTable);
        }
    }

    /// <summary>Writes the image into <paramref name="file"/> (empty, writable); the caller makes it durable and names it.</summary>
    public static void Write(SafeFileHandle file, long virtualSize, Preallocation preallocation, Action<long> wrote, CancellationToken cancellationToken)
    {
        var layout = Plan(virtualSize, preallocation);
        RandomAccess.SetLength(file, layout.FileBytes); // everything not written below reads as zeros (and stays a hole)

        byte[] header = new byte[ClusterSize];
        var h = header.AsSpan();
        BinaryPrimitives.WriteUInt32BigEndian(h, DiskImageProbe.Qcow2Magic);
        BinaryPrimitives.WriteUInt32BigEndian(h[4..], 3);
        BinaryPrimitives.WriteUInt32BigEndian(h[20..], ClusterBits);
        BinaryPrimitives.WriteUInt64BigEndian(h[24..], (ulong)virtualSize);
        BinaryPrimitives.WriteUInt32BigEndian(h[36..], (uint)layout.L1Entries);
        BinaryPrimitives.WriteUInt64BigEndian(h[40..], (ulong)(layout.L1 << ClusterBits));
        BinaryPrimitives.WriteUInt64BigEndian(h[48..], (ulong)(Layout.RefcountTable << ClusterBits));
        BinaryPrimitives.WriteUInt32BigEndian(h[56..], (uint)layout.RefcountTableClusters);
        BinaryPrimitives.WriteUInt32BigEndian(h[96..], RefcountOrder);
        BinaryPrimitives.WriteUInt32BigEndian(h[100..], Qcow2Header.V3MinHeaderLength);
        RandomAccess.Write(file, header, 0);

        // The refcount table names every block; each block counts 1 for every cluster the image has.
        WriteEntries(file, Layout.RefcountTable << ClusterBits, layout.RefcountBlocks, i => (ulong)((layout.FirstRefcountBlock + i) << ClusterBits));
        byte[] block = new byte[ClusterSize];
        for (long b = 0; b < layout.RefcountBlocks; b++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long first = b * RefcountsPerBlock;
            long counted = Math.Clamp(layout.TotalClusters - first, 0, RefcountsPerBlock);
            block.AsSpan().Clear();
            for (int i = 0; i < counted; i++)
            {
                BinaryPrimitives.WriteUInt16BigEndian(block.AsSpan(i * 2), 1);
            }

            RandomAccess.Write(file, block, (layout.FirstRefcountBlock + b) << ClusterBits);
        }

        if (preallocation == Preallocation.Off)
        {
            return; // the L1 table stays zeros: nothing mapped
        }

        // Every L1 entry owns its L2 table, every L2 entry its data cluster (COPIED: refcount exactly 1).
        WriteEntries(file, layout.L1 << ClusterBits, layout.L1Entries, i => (ulong)((layout.FirstL2 + i) << ClusterBits) | Qcow2Layout.Copied);
        byte[] table = new byte[ClusterSize];
        for (long t = 0; t < layout.L2Tables; t++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            table.AsSpan().Clear();
            long firstGuestCluster = t * L2Entries;
            long mapped = Math.Clamp(layout.DataClusters - firstGuestCluster, 0, L2Entries);
            for (int i = 0; i < mapped; i++)
            {
                ulong host = (ulong)((layout.FirstData + firstGuestCluster + i) << ClusterBits);
                BinaryPrimitives.WriteUInt64BigEndian(table.AsSpan(i * 8), host | Qcow2Layout.Copied);
            }

            RandomAccess.Write(file, table, (layout.FirstL2 + t) << ClusterBits);
        }

        if (preallocation == Preallocation.Full)
        {
            DiskImageZeros.Write(file, layout.FirstData << ClusterBits, layout.DataClusters << ClusterBits, wrote, cancellationToken);
        }
    }

    private static void WriteEntries(SafeFileHandle file, long offset, long count, Func<long, ulong> entry)
    {
        byte[] chunk = new byte[(int)Math.Min(ChunkBytes, Math.Max(8, count * 8))];
        for (long done = 0; done < count;)
        {
            int n = (int)Math.Min(chunk.Length / 8, count - done);
            for (int i = 0; i < n; i++)
            {
                BinaryPrimitives.WriteUInt64BigEndian(chunk.AsSpan(i * 8), entry(done + i));
            }

            RandomAccess.Write(file, chunk.AsSpan(0, n * 8), offset + (done * 8));
            done += n;
        }
    }
}
