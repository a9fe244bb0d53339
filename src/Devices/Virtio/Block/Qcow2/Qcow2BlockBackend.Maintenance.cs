using System.Buffers.Binary;

namespace Platform.Devices.Virtio.Block.Qcow2;

// Changes to the image's structure rather than its data: growing the disk, and the helpers snapshots share. All run
// under the allocation lock, so guest writes (on a running VM, for Grow) wait while the tables change.
//
// Crash safety follows one rule (qcow2.txt's and QEMU's): a new structure is written in fresh clusters at the end of
// the file and made durable (fsync) first; then one write of a few header bytes, all inside the first 512-byte sector
// (which the disk writes whole or not at all), switches the image to it; the old structure is freed last. A kill at
// any point leaves the old image or the new one; what the interrupted operation allocated or had yet to free stays
// counted but unused (leaked clusters: qemu-img check lists them, -r leaks reclaims them).
public sealed partial class Qcow2BlockBackend
{
    /// <summary>Offset of the header's size field; l1_size (36) and l1_table_offset (40) follow in the same sector.</summary>
    private const int SizeField = 24;
    /// <summary>Offset of nb_snapshots; snapshots_offset (64) follows in the same sector.</summary>
    private const int SnapshotCountField = 60;

    /// <summary>
    /// Grows the virtual disk to <paramref name="newSize"/> bytes (a multiple of 512). When the L1 table is too small for
    /// the new size, a bigger copy is written at the end of the file and the header switches to it together with the
    /// new size; otherwise only the size changes. Throws <see cref="DiskImageException"/> for a size it will not take
    /// and <see cref="IOException"/> when the file fails (the image is then the old one, or unusable until reopened).
    /// </summary>
    public void Grow(long newSize)
    {
        lock (_allocLock)
        {
            EnsureWritable();
            long size = Length;
            if (newSize < size)
            {
                throw new DiskImageException(
                    $"{Path}: shrinking a disk from {DiskImageDescription.Bytes(size)} to {DiskImageDescription.Bytes(newSize)} is refused: the guest's partitions and file systems reach to the end, and cutting it off loses their data. Shrink the file system in the guest and copy it to a new, smaller disk instead.");
            }

            if (newSize % Qcow2Layout.SectorSize != 0)
            {
                throw new DiskImageException($"{Path}: {newSize} bytes is not a whole number of 512-byte sectors.");
            }

            if (newSize > Qcow2Header.MaxVirtualSize)
            {
                throw new DiskImageException($"{Path}: {newSize} bytes is past the 64 PiB a qcow2 image can map.");
            }

            if (newSize == size)
            {
                return;
            }

            var l1 = _l1;
            long needed = (newSize + _header.BytesPerL1Entry - 1) / _header.BytesPerL1Entry;
            if (needed <= l1.Length)
            {
                Span<byte> field = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64BigEndian(field, (ulong)newSize);
                Check(_file.WriteUnaligned(SizeField, field), "writing the new size into the header");
                Barrier();
                Volatile.Write(ref _size, newSize);
                return;
            }

            if (needed * 8 > Qcow2Header.MaxL1Bytes)
            {
                throw new DiskImageException($"{Path}: {DiskImageDescription.Bytes(newSize)} needs an L1 table larger than {Qcow2Header.MaxL1Bytes >> 20} MiB.");
            }

            ulong[] bigger = new ulong[needed];
            l1.CopyTo(bigger, 0);
            long offset = WriteNewL1(bigger);
            long oldOffset = _l1TableOffset;
            SwitchL1(bigger, offset, newSize);
            if (l1.Length > 0)
            {
                FreeMetadata(oldOffset, (long)l1.Length * 8);
            }

            Barrier();
        }
    }

    private void EnsureWritable()
    {
        if (IsReadOnly)
        {
            throw new DiskImageException($"{Path}: the image is open read-only.");
        }

        if (_broken is { } why)
        {
            throw new DiskImageException(why);
        }
    }

    /// <summary>Clusters for metadata of <paramref name="bytes"/> at the end of the file, counted (refcount 1) and listed as metadata.</summary>
    private long AllocateMetadata(long bytes)
    {
        int clusters = (int)Math.Max(1, (bytes + _clusterSize - 1) >> _clusterBits);
        if (!_refcounts!.TryAllocate(clusters, out long first))
        {
            throw new IOException($"{Path}: allocating {clusters} cluster(s): {_refcounts.Error}");
        }

        _metadata.Add(first, clusters);
        return first << _clusterBits;
    }

    /// <summary>Drops the reference a metadata structure held on its clusters and gives their space back.</summary>
    private void FreeMetadata(long offset, long bytes)
    {
        long clusters = Math.Max(1, (bytes + _clusterSize - 1) >> _clusterBits);
        var freed = new List<long>();
        if (!_refcounts!.TryAdjust(offset >> _clusterBits, clusters, -1, freed))
        {
            throw new IOException($"{Path}: freeing the clusters at 0x{offset:x}: {_refcounts.Error}");
        }

        _metadata.Remove(offset >> _clusterBits, clusters);
        PunchFreed(freed);
    }

    /// <summary>Writes <paramref name="data"/> at a cluster-aligned offset, padded with zeros to whole clusters (aligned for O_DIRECT).</summary>
    private void WriteClusters(long offset, ReadOnlySpan<byte> data, string what)
    {
        var buffer = new AlignedBuffer((int)Math.Max(_clusterSize, (data.Length + _clusterSize - 1) / _clusterSize * _clusterSize));
        data.CopyTo(buffer.Span);
        Check(_file.Write(offset, buffer.Span), what);
    }

    /// <summary>A new L1 table with these entries, at the end of the file, durable; returns its offset.</summary>
    private long WriteNewL1(ulong[] entries)
    {
        long offset = AllocateMetadata((long)entries.Length * 8);
        WriteClusters(offset, L1Bytes(entries), "writing the new L1 table");
        Barrier();
        return offset;
    }

    /// <summary>
    /// The commit of a grow or a revert: size, l1_size and l1_table_offset in one 24-byte write inside the header's first
    /// sector, made durable; then the in-memory table follows. A failed write leaves the image in doubt: no more writes.
    /// </summary>
    private void SwitchL1(ulong[] l1, long offset, long size)
    {
        Span<byte> fields = stackalloc byte[24];
        BinaryPrimitives.WriteUInt64BigEndian(fields, (ulong)size);
        BinaryPrimitives.WriteUInt32BigEndian(fields[8..], 0); // crypt_method: encrypted images are refused at open
        BinaryPrimitives.WriteUInt32BigEndian(fields[12..], (uint)l1.Length);
        BinaryPrimitives.WriteUInt64BigEndian(fields[16..], (ulong)offset);
        if (!_file.WriteUnaligned(SizeField, fields) || !_file.Flush())
        {
            _broken = $"{Path}: switching to the new L1 table failed ({_file.LastError}); the image takes no more writes until it is reopened";
            throw new IOException(_broken);
        }

        Volatile.Write(ref _l1, l1);
        _l1TableOffset = offset;
        Volatile.Write(ref _size, size);
    }

    private static byte[] L1Bytes(ReadOnlySpan<ulong> entries)
    {
        byte[] bytes = new byte[entries.Length * 8];
        for (int i = 0; i < entries.Length; i++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(i * 8), entries[i]);
        }

        return bytes;
    }

    /// <summary>Everything written so far is on the disk before anything written after (fsync).</summary>
    private void Barrier() => Check(_file.Flush(), "fsync");

    private void Check(bool ok, string what)
    {
        if (!ok)
        {
            throw new IOException($"{Path}: {what}: {_file.LastError}");
        }
    }
}
