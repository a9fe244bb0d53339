using System.Buffers.Binary;

namespace Platform.Devices.Virtio.Block.Qcow2;

/// <summary>
/// The refcount table and blocks of a writable image, and the cluster allocator. Clusters are allocated at the end of
/// the file (<see cref="EndCluster"/>), never reused below it: a freed cluster's space goes back to the host by hole
/// punching instead, so a cluster an in-flight read may still look at is never handed to other data.
/// </summary>
/// <remarks>
/// <para>Only the image's allocation lock holder calls in; nothing here locks. Every change is written through at
/// once (the sector of a block that holds the changed entries), so refcounts reach the file before the L2 or L1 entry
/// that references a new cluster, and an image killed at any point has at worst leaked clusters.</para>
/// <para>A new refcount block goes at the end of the file and, when it falls in its own range, counts itself. A full
/// table grows the way the specification allows: a bigger copy at the end of the file whose own clusters (and any
/// blocks they need) are counted in it, then the header switches to it in one write, then the old table is freed.</para>
/// </remarks>
internal sealed class Qcow2Refcounts
{
    private const int SectorSize = 512;
    private const int BlockCacheSize = 16;
    /// <summary>Clusters found already counted at the end of the file (leaked by a crash) that an allocation skips at most.</summary>
    private const int MaxSkippedClusters = 1 << 20;

    private readonly Qcow2ImageFile _file;
    private readonly Qcow2MetadataMap _metadata;
    private readonly int _clusterBits;
    private readonly int _clusterSize;
    private readonly int _refcountBits;
    private readonly ulong _maxRefcount;
    private readonly long _entriesPerBlock;
    private readonly long[] _blockOffsets = new long[BlockCacheSize];
    private readonly AlignedBuffer?[] _blocks = new AlignedBuffer?[BlockCacheSize];
    private readonly long[] _blockUse = new long[BlockCacheSize];
    private AlignedBuffer _table;
    private long _tableOffset;
    private int _tableClusters;
    private long _clock;
    private long _endCluster;

    public Qcow2Refcounts(Qcow2ImageFile file, Qcow2MetadataMap metadata, int clusterBits, int refcountOrder,
        AlignedBuffer table, long tableOffset, int tableClusters, long endCluster)
    {
        _file = file;
        _metadata = metadata;
        _clusterBits = clusterBits;
        _clusterSize = 1 << clusterBits;
        _refcountBits = 1 << refcountOrder;
        _maxRefcount = _refcountBits == 64 ? ulong.MaxValue : (1UL << _refcountBits) - 1;
        _entriesPerBlock = (long)_clusterSize * 8 / _refcountBits;
        _table = table;
        _tableOffset = tableOffset;
        _tableClusters = tableClusters;
        _endCluster = endCluster;
        Array.Fill(_blockOffsets, -1);
    }

    /// <summary>The first cluster past everything allocated: where the next allocation goes.</summary>
    public long EndCluster => Volatile.Read(ref _endCluster);

    public long TableOffset => _tableOffset;

    public int TableClusters => _tableClusters;

    /// <summary>Why the last call failed.</summary>
    public string? Error { get; private set; }

    /// <summary>Whether <see cref="Error"/> is corruption (refcounts that contradict the tables) rather than an I/O error or a limit.</summary>
    public bool ErrorIsCorruption { get; private set; }

    /// <summary>Set when the file and what we believe about it may have parted (a header write failed mid-growth).</summary>
    public bool Broken { get; private set; }

    private long TableEntries => (long)_tableClusters * _clusterSize / 8;

    public bool TryGetRefcount(long cluster, out ulong refcount)
    {
        refcount = 0;
        long tableIndex = cluster / _entriesPerBlock;
        if (tableIndex >= TableEntries || TableEntry(tableIndex) == 0)
        {
            return true;
        }

        if (!TryLoadBlock(TableEntry(tableIndex), out var block))
        {
            return false;
        }

        refcount = GetEntry(block.Span, cluster % _entriesPerBlock);
        return true;
    }

    /// <summary>Allocates <paramref name="count"/> contiguous clusters at the end of the file with refcount 1.</summary>
    public bool TryAllocate(int count, out long firstCluster)
    {
        firstCluster = _endCluster;
        for (int skipped = 0; ; skipped++)
        {
            // A crash between a refcount update and the data write can leave counted clusters past the end of the
            // file; step over them rather than hand them out twice.
            int busy = -1;
            for (int i = count - 1; i >= 0 && busy < 0; i--)
            {
                if (!TryGetRefcount(firstCluster + i, out ulong refcount))
                {
                    return false;
                }

                if (refcount != 0)
                {
                    busy = i;
                }
            }

            if (busy < 0)
            {
                break;
            }

            if (skipped >= MaxSkippedClusters)
            {
                return Fail("no free clusters at the end of the image (its refcounts are corrupt)", corruption: true);
            }

            firstCluster += busy + 1;
        }

        Volatile.Write(ref _endCluster, firstCluster + count);
        return TryAdjust(firstCluster, count, +1, null);
    }

    /// <summary>
    /// Adds <paramref name="delta"/> (+1 or −1) to the refcount of each cluster in the range; clusters that reach zero
    /// are added to <paramref name="freed"/>. A refcount that would go below zero or past the maximum is corruption.
    /// </summary>
    public bool TryAdjust(long firstCluster, long count, int delta, List<long>? freed)
    {
        long cluster = firstCluster;
        long end = firstCluster + count;
        while (cluster < end)
        {
            long tableIndex = cluster / _entriesPerBlock;
            if (!TryBlock(tableIndex, create: delta > 0, out long blockOffset, out var block))
            {
                return false;
            }

            if (block is null)
            {
                return Fail($"cluster 0x{cluster << _clusterBits:x} is freed but has no refcount", corruption: true);
            }

            long first = cluster % _entriesPerBlock;
            long n = Math.Min(end - cluster, _entriesPerBlock - first);
            var span = block.Span;
            for (long i = first; i < first + n; i++)
            {
                ulong value = GetEntry(span, i);
                if ((delta < 0 && value == 0) || (delta > 0 && value == _maxRefcount))
                {
                    DropBlock(blockOffset);
                    return Fail(delta < 0
                        ? $"cluster 0x{(cluster + i - first) << _clusterBits:x} is freed but its refcount is already 0"
                        : $"cluster 0x{(cluster + i - first) << _clusterBits:x} would overflow its {_refcountBits}-bit refcount", corruption: true);
                }

                ulong next = delta < 0 ? value - 1 : value + 1;
                SetEntry(span, i, next);
                if (next == 0)
                {
                    freed?.Add(cluster + i - first);
                }
            }

            int startByte = (int)(first * _refcountBits / 8) / SectorSize * SectorSize;
            int endByte = (int)Math.Min(_clusterSize, ((((first + n) * _refcountBits) + 7) / 8 + SectorSize - 1) / SectorSize * SectorSize);
            if (!_file.Write(blockOffset + startByte, span[startByte..endByte]))
            {
                DropBlock(blockOffset); // the file is the truth: read it again next time
                return Fail($"refcount block write: {_file.LastError}");
            }

            cluster += n;
        }

        return true;
    }

    private long TableEntry(long index) => (long)(BinaryPrimitives.ReadUInt64BigEndian(_table.Span[(int)(index * 8)..]) & Qcow2Layout.OffsetMask);

    /// <summary>The refcount block for a table index; creates it (and grows the table) when asked, else null for none.</summary>
    private bool TryBlock(long tableIndex, bool create, out long blockOffset, out AlignedBuffer? block)
    {
        block = null;
        blockOffset = 0;
        if (tableIndex >= TableEntries)
        {
            if (!create)
            {
                return true;
            }

            if (!TryGrowTable(tableIndex))
            {
                return false;
            }
        }

        blockOffset = TableEntry(tableIndex);
        if (blockOffset != 0)
        {
            return TryLoadBlock(blockOffset, out block!);
        }

        if (!create)
        {
            return true;
        }

        // A new block at the end of the file.
        long blockCluster = _endCluster;
        Volatile.Write(ref _endCluster, blockCluster + 1);
        blockOffset = blockCluster << _clusterBits;
        var fresh = new AlignedBuffer(_clusterSize);
        bool countsItself = blockCluster / _entriesPerBlock == tableIndex;
        if (countsItself)
        {
            SetEntry(fresh.Span, blockCluster % _entriesPerBlock, 1);
        }

        if (!_file.Write(blockOffset, fresh.Span))
        {
            return Fail($"refcount block write: {_file.LastError}");
        }

        _metadata.Add(blockCluster, 1);
        if (!TrySetTableEntry(tableIndex, blockOffset))
        {
            return false;
        }

        Cache(blockOffset, fresh);
        if (!countsItself && !TryAdjust(blockCluster, 1, +1, null))
        {
            return false;
        }

        block = fresh;
        return true;
    }

    private bool TrySetTableEntry(long index, long offset)
    {
        var entry = _table.Span.Slice((int)(index * 8), 8);
        BinaryPrimitives.WriteUInt64BigEndian(entry, (ulong)offset);
        if (!_file.WriteUnaligned(_tableOffset + (index * 8), entry))
        {
            return Fail($"refcount table write: {_file.LastError}");
        }

        return true;
    }

    /// <summary>Grows the table so it has an entry for <paramref name="neededIndex"/>, as the class remarks describe.</summary>
    private bool TryGrowTable(long neededIndex)
    {
        long oldOffset = _tableOffset;
        int oldClusters = _tableClusters;
        long entries = Math.Max(neededIndex + 1, TableEntries * 2);
        long clusters;
        while (true)
        {
            clusters = ((entries * 8) + _clusterSize - 1) >> _clusterBits;
            // The new table must cover itself and the blocks that count it, which all go at the end of the file.
            long coveredClusters = entries * _entriesPerBlock;
            if (coveredClusters > _endCluster + clusters + entries + 1)
            {
                break;
            }

            entries *= 2;
        }

        if (clusters * _clusterSize > Qcow2Header.MaxRefcountTableBytes)
        {
            return Fail($"the image has outgrown the largest refcount table ({Qcow2Header.MaxRefcountTableBytes >> 20} MiB)");
        }

        var table = new AlignedBuffer((int)(clusters * _clusterSize));
        _table.Span.CopyTo(table.Span);
        long newCluster = _endCluster;
        Volatile.Write(ref _endCluster, newCluster + clusters);
        _table = table;
        _tableOffset = newCluster << _clusterBits;
        _tableClusters = (int)clusters;
        _metadata.Add(newCluster, clusters);

        // From here on the in-memory table is the new one; until the header names it, the file still uses the old one.
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64BigEndian(header, (ulong)_tableOffset);
        BinaryPrimitives.WriteUInt32BigEndian(header[8..], (uint)_tableClusters);
        if (!TryAdjust(newCluster, clusters, +1, null) || !_file.Write(_tableOffset, table.Span) ||
            !_file.WriteUnaligned(Qcow2Header.RefcountTableOffsetField, header))
        {
            Broken = true;
            return Fail($"growing the refcount table failed: {Error ?? _file.LastError}");
        }

        var freed = new List<long>();
        if (!TryAdjust(oldOffset >> _clusterBits, oldClusters, -1, freed))
        {
            return false;
        }

        _metadata.Remove(oldOffset >> _clusterBits, oldClusters);
        return true;
    }

    private bool TryLoadBlock(long offset, out AlignedBuffer block)
    {
        for (int i = 0; i < BlockCacheSize; i++)
        {
            if (_blockOffsets[i] == offset)
            {
                _blockUse[i] = ++_clock;
                block = _blocks[i]!;
                return true;
            }
        }

        block = new AlignedBuffer(_clusterSize);
        if (!_file.Read(offset, block.Span))
        {
            return Fail($"refcount block read: {_file.LastError}");
        }

        Cache(offset, block);
        return true;
    }

    private void Cache(long offset, AlignedBuffer block)
    {
        int victim = 0;
        for (int i = 0; i < BlockCacheSize; i++)
        {
            if (_blockOffsets[i] == offset || _blockOffsets[i] < 0)
            {
                victim = i;
                break;
            }

            if (_blockUse[i] < _blockUse[victim])
            {
                victim = i;
            }
        }

        _blockOffsets[victim] = offset;
        _blocks[victim] = block;
        _blockUse[victim] = ++_clock;
    }

    private void DropBlock(long offset)
    {
        for (int i = 0; i < BlockCacheSize; i++)
        {
            if (_blockOffsets[i] == offset)
            {
                _blockOffsets[i] = -1;
                _blocks[i] = null;
            }
        }
    }

    /// <summary>Refcount entry <paramref name="index"/> of a block: big-endian for 8 bits and up, packed from bit 0 below that.</summary>
    private ulong GetEntry(ReadOnlySpan<byte> block, long index)
    {
        switch (_refcountBits)
        {
            case 64: return BinaryPrimitives.ReadUInt64BigEndian(block[(int)(index * 8)..]);
            case 32: return BinaryPrimitives.ReadUInt32BigEndian(block[(int)(index * 4)..]);
            case 16: return BinaryPrimitives.ReadUInt16BigEndian(block[(int)(index * 2)..]);
            case 8: return block[(int)index];
            default:
                long bit = index * _refcountBits;
                return (ulong)(block[(int)(bit / 8)] >> (int)(bit % 8)) & _maxRefcount;
        }
    }

    private void SetEntry(Span<byte> block, long index, ulong value)
    {
        switch (_refcountBits)
        {
            case 64: BinaryPrimitives.WriteUInt64BigEndian(block[(int)(index * 8)..], value); break;
            case 32: BinaryPrimitives.WriteUInt32BigEndian(block[(int)(index * 4)..], (uint)value); break;
            case 16: BinaryPrimitives.WriteUInt16BigEndian(block[(int)(index * 2)..], (ushort)value); break;
            case 8: block[(int)index] = (byte)value; break;
            default:
                long bit = index * _refcountBits;
                int shift = (int)(bit % 8);
                ref byte b = ref block[(int)(bit / 8)];
                b = (byte)((b & ~((int)_maxRefcount << shift)) | ((int)value << shift));
                break;
        }
    }

    private bool Fail(string why, bool corruption = false)
    {
        Error = why;
        ErrorIsCorruption = corruption;
        return false;
    }
}
