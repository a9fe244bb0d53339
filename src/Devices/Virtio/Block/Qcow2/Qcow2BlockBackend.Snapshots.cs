using System.Buffers.Binary;
using System.Globalization;

namespace Platform.Devices.Virtio.Block.Qcow2;

// Internal snapshots (qcow2.txt, "Snapshots"; QEMU's block/qcow2-snapshot.c). A snapshot is a copy of the L1 table;
// every cluster reachable from an L1 table counts one reference per table that reaches it (an L2 table shared by two
// L1 tables counts 2, and so does each data cluster it maps). An L1 or L2 entry carries COPIED exactly when its
// cluster's refcount is 1: the write path writes such clusters in place and copies every other one first, which is
// what keeps a snapshot's data intact once the active image is written again.
//
// Each operation keeps the order of Maintenance.cs: new structures (the snapshot's L1 copy, the new snapshot table,
// the new active L1 table) go to fresh clusters and are made durable, every reference they add is counted before one
// header write makes them live, and references are dropped only after it. A kill before the header write leaves the
// old image (with leaked clusters); after it, the new one (with clusters still to free, leaked too). COPIED flags are
// cleared after the refcount rises and set after it falls to 1, so in the short window between the two writes an entry
// may say "shared" of a cluster only it uses (the next guest write copies it needlessly) or, when creating, "owned" of
// one the uncommitted snapshot counts (which no committed snapshot reaches, so writing it in place is still right).
public sealed partial class Qcow2BlockBackend
{
    /// <summary>The snapshots in the table, in order.</summary>
    internal IReadOnlyList<Qcow2SnapshotEntry> ListSnapshots()
    {
        lock (_allocLock)
        {
            return ReadSnapshots();
        }
    }

    /// <summary>Takes a snapshot named <paramref name="name"/> of the image as it is now.</summary>
    internal void CreateSnapshot(string name, DateTimeOffset now)
    {
        lock (_allocLock)
        {
            EnsureWritable();
            var entries = ReadSnapshots();
            if (entries.Any(e => e.Name == name || e.Id == name))
            {
                throw new DiskImageException($"{Path}: a snapshot named '{name}' already exists; choose another name or delete it first.");
            }

            if (entries.Count >= Qcow2Header.MaxSnapshots)
            {
                throw new DiskImageException($"{Path}: the image already has {entries.Count} snapshots, the most qcow2 allows.");
            }

            long id = 1 + entries.Select(e => long.TryParse(e.Id, NumberStyles.None, CultureInfo.InvariantCulture, out long n) ? n : 0).DefaultIfEmpty(0).Max();
            var active = _l1;

            // 1. The snapshot's L1 table: the active one as it is, without COPIED (its clusters are about to be shared).
            long snapshotL1 = 0;
            if (active.Length > 0)
            {
                snapshotL1 = AllocateMetadata((long)active.Length * 8);
                WriteClusters(snapshotL1, L1Bytes([.. active.Select(e => e & ~Qcow2Layout.Copied)]), "writing the snapshot's L1 table");
            }

            // 2. Everything the active table reaches gains the snapshot's reference; the active entries lose COPIED.
            AdjustTree(active, +1);
            FixActiveL1Flags();
            Barrier();

            // 3. The new table (old entries + this one) in fresh clusters, then the header names it: the commit.
            long size = Length;
            var entry = new Qcow2SnapshotEntry(snapshotL1, active.Length, id.ToString(CultureInfo.InvariantCulture), name,
                now.ToUnixTimeSeconds(), (int)(now.Ticks % TimeSpan.TicksPerSecond * 100), 0, 0, size, Qcow2SnapshotTable.NewExtraData(size));
            ReplaceSnapshotTable(entries, [.. entries, entry]);
        }
    }

    /// <summary>Makes the active image the snapshot's (data and size); the snapshot stays.</summary>
    internal void RevertToSnapshot(string name)
    {
        lock (_allocLock)
        {
            EnsureWritable();
            var entry = FindSnapshot(ReadSnapshots(), name);
            ulong[] snapshot = ReadSnapshotL1(entry);
            long size = entry.DiskSize ?? Length;
            long needed = (size + _header.BytesPerL1Entry - 1) / _header.BytesPerL1Entry;
            int length = (int)Math.Max(Math.Max(_l1.Length, snapshot.Length), needed);
            if ((long)length * 8 > Qcow2Header.MaxL1Bytes)
            {
                throw new DiskImageException($"{Path}: snapshot '{name}' needs an L1 table past {Qcow2Header.MaxL1Bytes >> 20} MiB.");
            }

            // 1. What the snapshot reaches gains the new active table's reference (shared from now on: no COPIED).
            AdjustTree(snapshot, +1);
            ulong[] reverted = new ulong[length];
            for (int i = 0; i < snapshot.Length; i++)
            {
                reverted[i] = snapshot[i] & ~Qcow2Layout.Copied;
            }

            // 2. The new active L1 table, durable, then one header write switches size and table: the commit.
            long offset = WriteNewL1(reverted);
            var old = _l1;
            long oldOffset = _l1TableOffset;
            SwitchL1(reverted, offset, size);

            // 3. The old active tree loses its reference; what only it reached is freed.
            AdjustTree(old, -1);
            if (old.Length > 0)
            {
                FreeMetadata(oldOffset, (long)old.Length * 8);
            }

            AdjustTree(_l1, 0);
            FixActiveL1Flags();
            Barrier();
        }
    }

    /// <summary>Deletes the snapshot; clusters only it reached are freed, and the active image owns again what it alone now uses.</summary>
    internal void DeleteSnapshot(string name)
    {
        lock (_allocLock)
        {
            EnsureWritable();
            var entries = ReadSnapshots();
            var entry = FindSnapshot(entries, name);
            ulong[] snapshot = ReadSnapshotL1(entry);

            // 1. The table without it: the commit. From here the snapshot's references are leaked until dropped.
            ReplaceSnapshotTable(entries, [.. entries.Where(e => !ReferenceEquals(e, entry))]);

            // 2. Drop them, then free its L1 table; 3. give COPIED back to what the active image alone uses now.
            AdjustTree(snapshot, -1);
            if (entry.L1Size > 0)
            {
                FreeMetadata(entry.L1TableOffset, (long)entry.L1Size * 8);
            }

            AdjustTree(_l1, 0);
            FixActiveL1Flags();
            Barrier();
        }
    }

    private List<Qcow2SnapshotEntry> ReadSnapshots() => Qcow2SnapshotTable.Read(_file, _header, _snapshotCount, _snapshotsOffset);

    private Qcow2SnapshotEntry FindSnapshot(List<Qcow2SnapshotEntry> entries, string name) =>
        entries.FirstOrDefault(e => e.Name == name) ?? throw new DiskImageException(entries.Count == 0
            ? $"{Path}: no snapshot named '{name}'; the image has no snapshots."
            : $"{Path}: no snapshot named '{name}'; the image has {string.Join(", ", entries.Select(e => $"'{e.Name}'"))}.");

    /// <summary>Writes the new table, switches the header to it (count and offset in one write) and frees the old one.</summary>
    private void ReplaceSnapshotTable(List<Qcow2SnapshotEntry> old, List<Qcow2SnapshotEntry> entries)
    {
        long offset = 0;
        if (entries.Count > 0)
        {
            byte[] table = Qcow2SnapshotTable.Serialize(entries);
            offset = AllocateMetadata(table.Length);
            WriteClusters(offset, table, "writing the snapshot table");
        }

        Barrier();
        Span<byte> fields = stackalloc byte[12];
        BinaryPrimitives.WriteUInt32BigEndian(fields, (uint)entries.Count);
        BinaryPrimitives.WriteUInt64BigEndian(fields[4..], (ulong)offset);
        if (!_file.WriteUnaligned(SnapshotCountField, fields) || !_file.Flush())
        {
            _broken = $"{Path}: switching to the new snapshot table failed ({_file.LastError}); the image takes no more writes until it is reopened";
            throw new IOException(_broken);
        }

        long oldOffset = _snapshotsOffset;
        _snapshotCount = entries.Count;
        _snapshotsOffset = offset;
        if (old.Count > 0)
        {
            FreeMetadata(oldOffset, Qcow2SnapshotTable.Length(old));
        }
    }

    /// <summary>A snapshot's L1 table, each entry checked as the active one is at open.</summary>
    private ulong[] ReadSnapshotL1(Qcow2SnapshotEntry entry)
    {
        if (entry.L1Size == 0)
        {
            return [];
        }

        long end = _refcounts!.EndCluster << _clusterBits;
        if ((long)entry.L1Size * 8 > Qcow2Header.MaxL1Bytes)
        {
            throw _header.Corrupt($"snapshot '{entry.Name}' has an L1 table of {entry.L1Size} entries");
        }

        _header.CheckRange($"snapshot '{entry.Name}''s L1 table", entry.L1TableOffset, (long)entry.L1Size * 8, end);
        byte[] bytes = new byte[entry.L1Size * 8];
        Check(_file.ReadUnaligned(entry.L1TableOffset, bytes), "reading a snapshot's L1 table");
        ulong[] l1 = new ulong[entry.L1Size];
        for (int i = 0; i < l1.Length; i++)
        {
            ulong e = BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(i * 8));
            long table = (long)(e & Qcow2Layout.OffsetMask);
            if (e != 0 && ((e & Qcow2Layout.L1Reserved) != 0 || table == 0 || table % _clusterSize != 0 || table < _clusterSize || table + _clusterSize > end))
            {
                throw _header.Corrupt($"snapshot '{entry.Name}''s L1 entry {i} (0x{e:x16}) is not an L2 table inside the file");
            }

            l1[i] = e;
        }

        return l1;
    }

    /// <summary>
    /// Adds <paramref name="delta"/> (+1, −1, or 0 to only correct flags) to the refcount of every cluster the L1 entries
    /// reach, L2 tables and the data, compressed and preallocated-zero clusters they map; then sets COPIED in each
    /// surviving L2 table exactly on the entries whose cluster now has refcount 1. A table going to 0 is freed.
    /// </summary>
    private void AdjustTree(ulong[] l1, int delta)
    {
        var content = new AlignedBuffer(_clusterSize);
        var freed = new List<long>();
        foreach (ulong l1Entry in l1)
        {
            long table = (long)(l1Entry & Qcow2Layout.OffsetMask);
            if (table == 0)
            {
                continue;
            }

            if (!_l2Cache.TryCopyTable(table, content.Span, out string? error))
            {
                throw new DiskImageException(error ?? $"{Path}: reading the L2 table at 0x{table:x}");
            }

            if (delta != 0)
            {
                AdjustMapped(content.Span, delta, freed);
            }

            if (!_refcounts!.TryGetRefcount(table >> _clusterBits, out ulong tableRefcount))
            {
                throw new IOException($"{Path}: {_refcounts.Error}");
            }

            bool survives = (long)tableRefcount + delta > 0;
            if (survives && FixL2Flags(content.Span) && !_l2Cache.TryInstall(table, content.Span, out error))
            {
                throw new IOException($"{Path}: writing the L2 table at 0x{table:x}: {error}");
            }

            if (delta != 0)
            {
                var tableFreed = new List<long>();
                Adjust(table >> _clusterBits, 1, delta, tableFreed);
                if (tableFreed.Count > 0)
                {
                    _l2Cache.Remove(table);
                    _metadata.Remove(table >> _clusterBits, 1);
                    freed.AddRange(tableFreed);
                }
            }
        }

        PunchFreed(freed);
    }

    /// <summary>Adjusts the clusters one L2 table maps, coalescing runs of neighbouring clusters into one refcount write.</summary>
    private void AdjustMapped(ReadOnlySpan<byte> table, int delta, List<long> freed)
    {
        long runStart = -1, runLength = 0;
        for (int i = 0; i < L2Entries; i++)
        {
            ulong entry = BinaryPrimitives.ReadUInt64BigEndian(table[(i * 8)..]);
            long first, count;
            if ((entry & Qcow2Layout.Compressed) != 0)
            {
                (first, count) = Qcow2Layout.CompressedClusters(entry, _clusterBits);
            }
            else if ((entry & Qcow2Layout.OffsetMask) != 0)
            {
                (first, count) = ((long)(entry & Qcow2Layout.OffsetMask) >> _clusterBits, 1);
            }
            else
            {
                continue;
            }

            if (runLength > 0 && first == runStart + runLength)
            {
                runLength += count;
                continue;
            }

            if (runLength > 0)
            {
                Adjust(runStart, runLength, delta, freed);
            }

            (runStart, runLength) = (first, count);
        }

        if (runLength > 0)
        {
            Adjust(runStart, runLength, delta, freed);
        }
    }

    /// <summary>Sets COPIED on standard entries whose cluster has refcount 1 and clears it elsewhere; true when anything changed.</summary>
    private bool FixL2Flags(Span<byte> table)
    {
        bool changed = false;
        for (int i = 0; i < L2Entries; i++)
        {
            ulong entry = BinaryPrimitives.ReadUInt64BigEndian(table[(i * 8)..]);
            long host = (long)(entry & Qcow2Layout.OffsetMask);
            if ((entry & Qcow2Layout.Compressed) != 0 || host == 0)
            {
                continue;
            }

            if (!_refcounts!.TryGetRefcount(host >> _clusterBits, out ulong refcount))
            {
                throw new IOException($"{Path}: {_refcounts.Error}");
            }

            ulong wanted = refcount == 1 ? entry | Qcow2Layout.Copied : entry & ~Qcow2Layout.Copied;
            if (wanted != entry)
            {
                BinaryPrimitives.WriteUInt64BigEndian(table[(i * 8)..], wanted);
                changed = true;
            }
        }

        return changed;
    }

    /// <summary>Sets COPIED on the active L1 entries whose L2 table has refcount 1, clears it elsewhere, and writes the table if it changed.</summary>
    private void FixActiveL1Flags()
    {
        var l1 = _l1;
        bool changed = false;
        for (int i = 0; i < l1.Length; i++)
        {
            long table = (long)(l1[i] & Qcow2Layout.OffsetMask);
            if (table == 0)
            {
                continue;
            }

            if (!_refcounts!.TryGetRefcount(table >> _clusterBits, out ulong refcount))
            {
                throw new IOException($"{Path}: {_refcounts.Error}");
            }

            ulong wanted = refcount == 1 ? l1[i] | Qcow2Layout.Copied : l1[i] & ~Qcow2Layout.Copied;
            if (wanted != l1[i])
            {
                Volatile.Write(ref l1[i], wanted);
                changed = true;
            }
        }

        if (changed)
        {
            Check(_file.WriteUnaligned(_l1TableOffset, L1Bytes(l1)), "writing the L1 table");
        }
    }

    private void Adjust(long firstCluster, long count, int delta, List<long> freed)
    {
        if (!_refcounts!.TryAdjust(firstCluster, count, delta, freed))
        {
            if (_refcounts.ErrorIsCorruption)
            {
                _broken = $"{Path}: {_refcounts.Error}; the image takes no more writes (repair it with qemu-img check -r all)";
            }

            throw new DiskImageException($"{Path}: {_refcounts.Error}");
        }
    }
}
