using System.Buffers;
using System.IO.Compression;

namespace Platform.Devices.Virtio.Block.Qcow2;

// Reads: runs of clusters mapped by TryMap, each served by one pread(v) into the target, zeros, the backing file, or
// an inflated compressed cluster. Nothing here takes the allocation lock.
public sealed partial class Qcow2BlockBackend
{
    private bool ReadCore<T>(long offset, ref T target)
        where T : IReadTarget, allows ref struct
    {
        long length = target.Length;
        if (!InRange(offset, length))
        {
            return false;
        }

        long done = 0;
        while (done < length)
        {
            long guest = offset + done;
            if (!TryMap(guest, length - done, out var extent))
            {
                return false;
            }

            bool ok = extent.Kind switch
            {
                Qcow2ClusterKind.Data => target.ReadFile(_file, extent.HostOffset, done, extent.Length) || IoFailed("read"),
                Qcow2ClusterKind.Unallocated => ReadUnallocated(guest, done, extent.Length, ref target),
                Qcow2ClusterKind.Zero => Clear(ref target, done, extent.Length),
                _ => ReadCompressed(extent.Entry, guest, done, extent.Length, ref target),
            };
            if (!ok)
            {
                return false;
            }

            done += extent.Length;
        }

        return true;
    }

    private static bool Clear<T>(ref T target, long start, long length)
        where T : IReadTarget, allows ref struct
    {
        target.Clear(start, length);
        return true;
    }

    /// <summary>Not in this image: the backing file's bytes where it has them, zeros past its end or without one.</summary>
    private bool ReadUnallocated<T>(long guest, long start, long length, ref T target)
        where T : IReadTarget, allows ref struct
    {
        long fromBacking = Backing is null ? 0 : Math.Clamp(Backing.Length - guest, 0, length);
        if (fromBacking > 0)
        {
            Interlocked.Increment(ref _counters.BackingReads);
            if (!target.ReadBacking(Backing!, guest, start, fromBacking))
            {
                LastError = $"backing file: {Backing!.LastError}";
                return false;
            }
        }

        if (fromBacking < length)
        {
            target.Clear(start + fromBacking, length - fromBacking);
        }

        return true;
    }

    private bool ReadCompressed<T>(ulong entry, long guest, long start, long length, ref T target)
        where T : IReadTarget, allows ref struct
    {
        byte[] cluster = ArrayPool<byte>.Shared.Rent(_clusterSize);
        try
        {
            if (!TryInflate(entry, cluster.AsSpan(0, _clusterSize)))
            {
                return false;
            }

            int intra = (int)(guest & (_clusterSize - 1));
            target.CopyFrom(cluster.AsSpan(intra, (int)length), start);
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(cluster);
        }
    }

    /// <summary>Inflates a compressed cluster (raw deflate, as QEMU writes it) into <paramref name="cluster"/>.</summary>
    private bool TryInflate(ulong entry, Span<byte> cluster)
    {
        Interlocked.Increment(ref _counters.CompressedReads);
        var (offset, sectors) = Qcow2Layout.CompressedExtent(entry, _clusterBits);
        long end = (offset & ~(long)(Qcow2Layout.SectorSize - 1)) + (sectors * Qcow2Layout.SectorSize);
        int compressedLength = (int)Math.Min(end - offset, 2L * _clusterSize + Qcow2Layout.SectorSize);
        byte[] compressed = ArrayPool<byte>.Shared.Rent(compressedLength);
        try
        {
            if (!_file.ReadUnaligned(offset, compressed.AsSpan(0, compressedLength)))
            {
                return IoFailed("compressed cluster read");
            }

            using var input = new MemoryStream(compressed, 0, compressedLength, writable: false);
            using var inflater = new DeflateStream(input, CompressionMode.Decompress);
            int done = 0;
            while (done < cluster.Length)
            {
                int n = inflater.Read(cluster[done..]);
                if (n == 0)
                {
                    break;
                }

                done += n;
            }

            return done == cluster.Length || Corrupted(
                $"{Path}: the compressed cluster at 0x{offset:x} inflates to {done} bytes, not {cluster.Length}: the image is corrupt");
        }
        catch (InvalidDataException ex)
        {
            return Corrupted($"{Path}: the compressed cluster at 0x{offset:x} is not valid deflate data ({ex.Message}): the image is corrupt");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(compressed);
        }
    }

    /// <summary>
    /// What the guest cluster at <paramref name="clusterGuestOffset"/> holds at [within, within + destination.Length),
    /// going by its old L2 entry: the source of a copy-on-write. True in <paramref name="copied"/> when the bytes came
    /// from somewhere other than zeros (so the new cluster must be on disk before its L2 entry).
    /// </summary>
    private bool TryReadOldContent(ulong entry, long clusterGuestOffset, int within, Span<byte> destination, out bool copied)
    {
        copied = false;
        switch (Qcow2Layout.Kind(entry))
        {
            case Qcow2ClusterKind.Zero:
                destination.Clear();
                return true;
            case Qcow2ClusterKind.Data:
                copied = true;
                return _file.ReadUnaligned((long)(entry & Qcow2Layout.OffsetMask) + within, destination) || IoFailed("copy-on-write read");
            case Qcow2ClusterKind.Compressed:
                copied = true;
                byte[] cluster = ArrayPool<byte>.Shared.Rent(_clusterSize);
                try
                {
                    if (!TryInflate(entry, cluster.AsSpan(0, _clusterSize)))
                    {
                        return false;
                    }

                    cluster.AsSpan(within, destination.Length).CopyTo(destination);
                    return true;
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(cluster);
                }

            default:
                copied = Backing is not null && Backing.Length > clusterGuestOffset + within;
                var target = new SpanReadTarget(destination);
                return ReadUnallocated(clusterGuestOffset + within, 0, destination.Length, ref target);
        }
    }
}
