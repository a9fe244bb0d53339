namespace Platform.Devices.Virtio.Block.Qcow2;

/// <summary>What an L2 entry says about one guest cluster.</summary>
internal enum Qcow2ClusterKind
{
    /// <summary>Not in this image: the backing file's data, or zeros without one.</summary>
    Unallocated,

    /// <summary>Reads as zeros (version 3's zero flag), whatever the backing file holds.</summary>
    Zero,

    /// <summary>A host cluster holds the data.</summary>
    Data,

    /// <summary>Deflate-compressed data somewhere in the file (read-only: a write moves it to a fresh cluster).</summary>
    Compressed,
}

/// <summary>Bits of L1 and L2 entries (qcow2.txt, "Cluster mapping").</summary>
internal static class Qcow2Layout
{
    /// <summary>Bits 9–55: a cluster-aligned host offset.</summary>
    public const ulong OffsetMask = 0x00FF_FFFF_FFFF_FE00;
    /// <summary>Bit 63: the cluster (or L2 table) has refcount exactly 1 and may be written in place.</summary>
    public const ulong Copied = 1UL << 63;
    public const ulong Compressed = 1UL << 62;
    /// <summary>Bit 0 of a standard L2 entry (version 3): reads as zeros.</summary>
    public const ulong ZeroFlag = 1;
    /// <summary>L1 entry bits that must be 0: 0–8 and 56–62.</summary>
    public const ulong L1Reserved = 0x7F00_0000_0000_01FF;
    /// <summary>Standard L2 entry bits that must be 0: 1–8 and 56–61.</summary>
    public const ulong L2Reserved = 0x3F00_0000_0000_01FE;
    public const int SectorSize = 512;

    public static Qcow2ClusterKind Kind(ulong entry)
    {
        if ((entry & Compressed) != 0)
        {
            return Qcow2ClusterKind.Compressed;
        }

        if ((entry & ZeroFlag) != 0)
        {
            return Qcow2ClusterKind.Zero;
        }

        return (entry & OffsetMask) == 0 ? Qcow2ClusterKind.Unallocated : Qcow2ClusterKind.Data;
    }

    /// <summary>A compressed entry's host byte offset and the 512-byte sectors its data spans (from the offset's sector).</summary>
    public static (long Offset, long Sectors) CompressedExtent(ulong entry, int clusterBits)
    {
        int offsetBits = 62 - (clusterBits - 8);
        ulong offset = entry & ((1UL << offsetBits) - 1);
        ulong sectors = ((entry >> offsetBits) & ((1UL << (62 - offsetBits)) - 1)) + 1;
        return ((long)offset, (long)sectors);
    }

    /// <summary>Host clusters a compressed entry's data touches: each counts one reference from it.</summary>
    public static (long FirstCluster, long Count) CompressedClusters(ulong entry, int clusterBits)
    {
        var (offset, sectors) = CompressedExtent(entry, clusterBits);
        long start = offset & ~(long)(SectorSize - 1);
        long end = start + (sectors * SectorSize) - 1;
        return (start >> clusterBits, (end >> clusterBits) - (start >> clusterBits) + 1);
    }
}
