namespace Platform.Devices.Virtio.Block.Qcow2;

// DISCARD and WRITE_ZEROES: whole clusters change their L2 entries (deallocated, or version 3's zero flag where a
// backing file would otherwise show through); partial clusters at either end are written with zeros (write-zeroes)
// or left alone (discard, whose result is unspecified anyway).
public sealed partial class Qcow2BlockBackend
{
    private const int ZeroChunk = 64 * 1024;
    private static readonly AlignedBuffer Zeros = new(ZeroChunk);

    public bool Discard(long offset, long length) => Deallocate(offset, length, zeroes: false);

    /// <summary>
    /// Whole clusters become unallocated (no backing file) or zero clusters (version 3 with a backing file), whether or
    /// not <paramref name="mayUnmap"/>: either way the guest reads zeros and the space is released. A version 2 image
    /// with a backing file has no way to say "zeros", so there zeros are written.
    /// </summary>
    public bool WriteZeroes(long offset, long length, bool mayUnmap) => Deallocate(offset, length, zeroes: true);

    private bool Deallocate(long offset, long length, bool zeroes)
    {
        if (!CanWrite() || !InRange(offset, length))
        {
            return false;
        }

        long first = (offset + _clusterSize - 1) & ~(long)(_clusterSize - 1);
        long end = (offset + length) & ~(long)(_clusterSize - 1);
        if (zeroes)
        {
            if (first >= end)
            {
                return WriteZeroBytes(offset, length);
            }

            if ((offset < first && !WriteZeroBytes(offset, first - offset)) ||
                (end < offset + length && !WriteZeroBytes(end, offset + length - end)))
            {
                return false;
            }

            if (_header.Version < 3 && Backing is not null)
            {
                return WriteZeroBytes(first, end - first);
            }
        }

        if (first >= end)
        {
            return true;
        }

        // Without a backing file an unallocated cluster reads as zeros; with one, only the zero flag hides it.
        ulong wanted = _header.Version >= 3 && Backing is not null ? Qcow2Layout.ZeroFlag : 0;
        lock (_allocLock)
        {
            for (long position = first; position < end;)
            {
                long handled = DeallocateRun(position, end - position, wanted);
                if (handled < 0)
                {
                    return false;
                }

                position += handled;
            }
        }

        return true;
    }

    /// <summary>Sets up to one L2 table's worth of whole clusters from <paramref name="guest"/> to <paramref name="wanted"/>.</summary>
    private long DeallocateRun(long guest, long remaining, ulong wanted)
    {
        if (!CanWrite())
        {
            return -1;
        }

        long cluster = guest >> _clusterBits;
        long l1Index = cluster >> _l2Bits;
        int l2Index = (int)(cluster & (L2Entries - 1));
        int count = (int)Math.Min(Math.Min(L2Entries - l2Index, remaining >> _clusterBits), MaxAllocationClusters);
        long bytes = (long)count << _clusterBits;
        ulong l1Entry = _l1[l1Index];
        if ((l1Entry & Qcow2Layout.OffsetMask) == 0 && wanted == 0)
        {
            return bytes; // no table: already unallocated
        }

        if (!TryEnsureL2Table(l1Index, out long table))
        {
            return -1;
        }

        Span<ulong> old = stackalloc ulong[MaxAllocationClusters];
        old = old[..count];
        if (!_l2Cache.TryGetEntries(table, l2Index, old, out string? error))
        {
            Corrupted(error);
            return -1;
        }

        if (!old.ContainsAnyExcept(wanted))
        {
            return bytes;
        }

        Span<ulong> entries = stackalloc ulong[MaxAllocationClusters];
        entries = entries[..count];
        entries.Fill(wanted);
        if (!_l2Cache.TryUpdate(table, l2Index, entries, out error))
        {
            LastError = $"L2 table write: {error}";
            return -1;
        }

        return TryRelease(old) ? bytes : -1;
    }

    private bool WriteZeroBytes(long offset, long length)
    {
        while (length > 0)
        {
            int chunk = (int)Math.Min(length, ZeroChunk);
            if (!Write(offset, Zeros.Span[..chunk]))
            {
                return false;
            }

            offset += chunk;
            length -= chunk;
        }

        return true;
    }
}
