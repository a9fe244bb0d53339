using System.Buffers.Binary;

namespace Platform.Devices.Virtio.Block.Qcow2;

// Writes: runs of clusters this image owns (L2 entry with the COPIED bit) are written in place without a lock; every
// other run goes through AllocatingWrite under the allocation lock.
public sealed partial class Qcow2BlockBackend
{
    private bool WriteCore<T>(long offset, ref T source)
        where T : IWriteSource, allows ref struct
    {
        long length = source.Length;
        if (!CanWrite() || !InRange(offset, length))
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

            long handled;
            if (extent.Kind == Qcow2ClusterKind.Data && extent.Copied)
            {
                if (!source.WriteFile(_file, extent.HostOffset, done, extent.Length))
                {
                    return IoFailed("write");
                }

                handled = extent.Length;
            }
            else
            {
                lock (_allocLock)
                {
                    handled = AllocatingWrite(guest, length - done, ref source, done);
                }

                if (handled < 0)
                {
                    return false;
                }
            }

            done += handled;
        }

        return true;
    }

    private bool CanWrite()
    {
        if (IsReadOnly)
        {
            LastError = "write to a read-only image";
            return false;
        }

        if (_broken is { } why)
        {
            LastError = why;
            return false;
        }

        return true;
    }

    /// <summary>
    /// Under the allocation lock: writes the first run of [guest, guest + remaining) that needs new clusters — fresh
    /// clusters at the end of the file holding the old contents around the guest's data, then refcounts, then the L2
    /// entries, then the old clusters released. Returns the bytes handled, or −1 on failure. The mapping is looked up
    /// again first: a racing write may have allocated the cluster meanwhile, and then this one simply writes into it.
    /// </summary>
    private long AllocatingWrite<T>(long guest, long remaining, ref T source, long sourceStart)
        where T : IWriteSource, allows ref struct
    {
        if (!CanWrite())
        {
            return -1;
        }

        long cluster = guest >> _clusterBits;
        int intra = (int)(guest & (_clusterSize - 1));
        long l1Index = cluster >> _l2Bits;
        int l2Index = (int)(cluster & (L2Entries - 1));
        if (!TryEnsureL2Table(l1Index, out long table))
        {
            return -1;
        }

        int maxClusters = (int)Math.Min(Math.Min(Math.Clamp(MaxAllocationBytes >> _clusterBits, 1, MaxAllocationClusters), L2Entries - l2Index),
            (intra + remaining + _clusterSize - 1) >> _clusterBits);
        Span<ulong> old = stackalloc ulong[MaxAllocationClusters];
        old = old[..maxClusters];
        if (!_l2Cache.TryGetEntries(table, l2Index, old, out string? error))
        {
            Corrupted(error);
            return -1;
        }

        if (Qcow2Layout.Kind(old[0]) == Qcow2ClusterKind.Data && (old[0] & Qcow2Layout.Copied) != 0)
        {
            // Allocated by a racing write since we looked: write in place.
            long inPlace = Math.Min(remaining, _clusterSize - intra);
            if (!source.WriteFile(_file, (long)(old[0] & Qcow2Layout.OffsetMask) + intra, sourceStart, inPlace))
            {
                IoFailed("write");
                return -1;
            }

            return inPlace;
        }

        int count = 1;
        while (count < maxClusters && !(Qcow2Layout.Kind(old[count]) == Qcow2ClusterKind.Data && (old[count] & Qcow2Layout.Copied) != 0))
        {
            count++;
        }

        long bytes = Math.Min(remaining, ((long)count << _clusterBits) - intra);
        int head = intra;
        int tail = (int)(((long)count << _clusterBits) - intra - bytes);
        if (!_refcounts!.TryAllocate(count, out long firstCluster))
        {
            MetadataFailed();
            return -1;
        }

        long host = firstCluster << _clusterBits;
        bool copied = false;
        bool written;
        if (head == 0 && tail == 0)
        {
            written = source.WriteFile(_file, host, sourceStart, bytes) || IoFailed("write");
        }
        else
        {
            var buffer = _cowBuffers.Rent();
            try
            {
                var data = buffer.Span[..(count << _clusterBits)];
                written = true;
                if (head > 0)
                {
                    written = TryReadOldContent(old[0], cluster << _clusterBits, 0, data[..head], out copied);
                }

                if (written && tail > 0)
                {
                    written = TryReadOldContent(old[count - 1], (cluster + count - 1) << _clusterBits, _clusterSize - tail, data[^tail..], out bool tailCopied);
                    copied |= tailCopied;
                }

                if (written)
                {
                    source.CopyTo(sourceStart, data.Slice(head, (int)bytes));
                    written = _file.Write(host, data) || IoFailed("write");
                }
            }
            finally
            {
                _cowBuffers.Return(buffer);
            }
        }

        if (written && copied)
        {
            // The copied bytes were already the guest's (durable); they must be on disk before anything points at them.
            Interlocked.Increment(ref _counters.CopyOnWrites);
            Interlocked.Increment(ref _counters.Barriers);
            written = _file.Flush() || IoFailed("copy-on-write barrier (fdatasync)");
        }

        Span<ulong> entries = stackalloc ulong[MaxAllocationClusters];
        entries = entries[..count];
        for (int i = 0; i < count; i++)
        {
            entries[i] = (ulong)(host + ((long)i << _clusterBits)) | Qcow2Layout.Copied;
        }

        if (!written || !_l2Cache.TryUpdate(table, l2Index, entries, out error))
        {
            LastError ??= error;
            _refcounts.TryAdjust(firstCluster, count, -1, null); // give the clusters back; a failure here only leaks them
            return -1;
        }

        Interlocked.Add(ref _counters.Allocated, count);
        return TryRelease(old[..count]) ? bytes : -1;
    }

    /// <summary>
    /// Makes the L1 entry point at an L2 table this image owns: a new zeroed table when there is none, a copy when the
    /// table is shared with a snapshot (its L1 entry lacks the COPIED bit). Order: table written, its refcount, then the
    /// L1 entry; the shared table's refcount drops last.
    /// </summary>
    private bool TryEnsureL2Table(long l1Index, out long table)
    {
        ulong l1Entry = _l1[l1Index];
        table = (long)(l1Entry & Qcow2Layout.OffsetMask);
        if (table != 0 && (l1Entry & Qcow2Layout.Copied) != 0)
        {
            return true;
        }

        var content = new AlignedBuffer(_clusterSize);
        if (table != 0 && !_l2Cache.TryCopyTable(table, content.Span, out string? error))
        {
            return Corrupted(error);
        }

        if (!_refcounts!.TryAllocate(1, out long cluster))
        {
            return MetadataFailed();
        }

        long fresh = cluster << _clusterBits;
        _metadata.Add(cluster, 1);
        if (!_l2Cache.TryInstall(fresh, content.Span, out error))
        {
            LastError = $"L2 table write: {error}";
            return false; // the cluster leaks; the L1 still points where it did
        }

        ulong entry = (ulong)fresh | Qcow2Layout.Copied;
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, entry);
        if (!_file.WriteUnaligned(_l1TableOffset + (l1Index * 8), bytes))
        {
            _l2Cache.Remove(fresh);
            return IoFailed("L1 table write");
        }

        Volatile.Write(ref _l1[l1Index], entry);
        long shared = table;
        table = fresh;
        if (shared != 0)
        {
            var freed = new List<long>();
            if (!_refcounts.TryAdjust(shared >> _clusterBits, 1, -1, freed))
            {
                return MetadataFailed();
            }

            _l2Cache.Remove(shared);
            if (freed.Count > 0)
            {
                _metadata.Remove(shared >> _clusterBits, 1);
                PunchFreed(freed);
            }
        }

        return true;
    }

    /// <summary>Drops the references the replaced L2 entries held (data, preallocated zero and compressed clusters).</summary>
    private bool TryRelease(ReadOnlySpan<ulong> replaced)
    {
        var freed = new List<long>();
        foreach (ulong entry in replaced)
        {
            switch (Qcow2Layout.Kind(entry))
            {
                case Qcow2ClusterKind.Compressed:
                    var (first, count) = Qcow2Layout.CompressedClusters(entry, _clusterBits);
                    if (!_refcounts!.TryAdjust(first, count, -1, freed))
                    {
                        return MetadataFailed();
                    }

                    break;
                default:
                    long host = (long)(entry & Qcow2Layout.OffsetMask);
                    if (host != 0 && !_refcounts!.TryAdjust(host >> _clusterBits, 1, -1, freed))
                    {
                        return MetadataFailed();
                    }

                    break;
            }
        }

        PunchFreed(freed);
        return true;
    }

    /// <summary>Gives freed clusters' space back to the host file system (they are never reused inside the image).</summary>
    private void PunchFreed(List<long> freed)
    {
        if (_space is null || freed.Count == 0)
        {
            return;
        }

        freed.Sort();
        for (int i = 0; i < freed.Count;)
        {
            int j = i + 1;
            while (j < freed.Count && freed[j] == freed[j - 1] + 1)
            {
                j++;
            }

            // Best effort: a file system without hole punching keeps the space, nothing else changes.
            _space.TryPunchHole(_file.Handle, freed[i] << _clusterBits, (long)(j - i) << _clusterBits, out _);
            i = j;
        }
    }

    /// <summary>
    /// A refcount update failed. An I/O error fails the request; corrupt refcounts (or a half-grown table) also stop
    /// every later write, since allocating on top of them would spread the damage.
    /// </summary>
    private bool MetadataFailed()
    {
        string why = $"{Path}: {_refcounts!.Error}";
        LastError = why;
        if (_refcounts.Broken || _refcounts.ErrorIsCorruption)
        {
            Interlocked.Increment(ref _counters.Corruption);
            _broken = $"{why}; the image takes no more writes (repair it with qemu-img check -r all)";
        }

        return false;
    }
}
