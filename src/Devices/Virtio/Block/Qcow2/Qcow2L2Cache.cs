using System.Buffers.Binary;

namespace Platform.Devices.Virtio.Block.Qcow2;

/// <summary>Reads an L2 table from the image into <paramref name="table"/> and checks every entry; null when it is sound, else why not.</summary>
internal delegate string? Qcow2L2TableLoader(long tableOffset, Span<byte> table);

/// <summary>
/// Recently used L2 tables, kept exactly as they are on disk (write-through: an update reaches the file while the
/// table is locked, so a table is never dirty and eviction costs nothing). One lock covers lookups, loads and
/// updates, so a table being loaded can never be overwritten by an older copy of itself; loads are rare (a table
/// maps 512 MiB with 64 KiB clusters) and data I/O never runs under this lock.
/// </summary>
internal sealed class Qcow2L2Cache
{
    private const int SectorSize = 512;

    private readonly Lock _lock = new();
    private readonly Qcow2ImageFile _file;
    private readonly Qcow2L2TableLoader _load;
    private readonly int _tableBytes;
    private readonly AlignedBuffer?[] _tables;
    private readonly long[] _offsets;
    private readonly long[] _lastUse;
    private readonly Dictionary<long, int> _slots = [];
    private long _clock;
    private long _hits;
    private long _misses;

    public Qcow2L2Cache(Qcow2ImageFile file, int tableBytes, int capacity, Qcow2L2TableLoader load)
    {
        _file = file;
        _tableBytes = tableBytes;
        _load = load;
        _tables = new AlignedBuffer?[capacity];
        _offsets = new long[capacity];
        _lastUse = new long[capacity];
        Array.Fill(_offsets, -1);
    }

    public int Capacity => _tables.Length;

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>Copies entries [first, first + entries.Length) of the table at <paramref name="tableOffset"/>.</summary>
    public bool TryGetEntries(long tableOffset, int first, Span<ulong> entries, out string? error)
    {
        lock (_lock)
        {
            if (!TryFind(tableOffset, out int slot, out error))
            {
                return false;
            }

            var table = _tables[slot]!.Span;
            for (int i = 0; i < entries.Length; i++)
            {
                entries[i] = BinaryPrimitives.ReadUInt64BigEndian(table[((first + i) * 8)..]);
            }

            return true;
        }
    }

    /// <summary>Copies the whole table (for copy-on-write of a table shared with a snapshot).</summary>
    public bool TryCopyTable(long tableOffset, Span<byte> destination, out string? error)
    {
        lock (_lock)
        {
            if (!TryFind(tableOffset, out int slot, out error))
            {
                return false;
            }

            _tables[slot]!.Span.CopyTo(destination);
            return true;
        }
    }

    /// <summary>
    /// Sets entries [first, first + entries.Length) and writes the sectors that hold them; on a failed write the cached
    /// table is put back as it was, so the cache never claims what the file may not hold.
    /// </summary>
    public bool TryUpdate(long tableOffset, int first, ReadOnlySpan<ulong> entries, out string? error)
    {
        lock (_lock)
        {
            if (!TryFind(tableOffset, out int slot, out error))
            {
                return false;
            }

            var table = _tables[slot]!.Span;
            int start = first * 8 / SectorSize * SectorSize;
            int end = Math.Min(_tableBytes, ((((first + entries.Length) * 8) + SectorSize - 1) / SectorSize) * SectorSize);
            byte[] saved = table[start..end].ToArray();
            for (int i = 0; i < entries.Length; i++)
            {
                BinaryPrimitives.WriteUInt64BigEndian(table[((first + i) * 8)..], entries[i]);
            }

            if (!_file.Write(tableOffset + start, table[start..end]))
            {
                saved.CopyTo(table[start..end]);
                error = _file.LastError;
                return false;
            }

            return true;
        }
    }

    /// <summary>Writes a new table (the whole cluster) to the file and caches it.</summary>
    public bool TryInstall(long tableOffset, ReadOnlySpan<byte> content, out string? error)
    {
        lock (_lock)
        {
            Forget(tableOffset);
            int slot = Victim();
            var table = _tables[slot] ??= new AlignedBuffer(_tableBytes);
            content.CopyTo(table.Span);
            if (!_file.Write(tableOffset, table.Span))
            {
                error = _file.LastError;
                return false;
            }

            Assign(slot, tableOffset);
            error = null;
            return true;
        }
    }

    /// <summary>Drops a table that is no longer part of the active mapping.</summary>
    public void Remove(long tableOffset)
    {
        lock (_lock)
        {
            Forget(tableOffset);
        }
    }

    private bool TryFind(long tableOffset, out int slot, out string? error)
    {
        error = null;
        if (_slots.TryGetValue(tableOffset, out slot))
        {
            _lastUse[slot] = ++_clock;
            _hits++;
            return true;
        }

        _misses++;
        slot = Victim();
        var table = _tables[slot] ??= new AlignedBuffer(_tableBytes);
        if (_offsets[slot] >= 0)
        {
            _slots.Remove(_offsets[slot]);
            _offsets[slot] = -1;
        }

        error = _load(tableOffset, table.Span);
        if (error is not null)
        {
            return false;
        }

        Assign(slot, tableOffset);
        return true;
    }

    private void Assign(int slot, long tableOffset)
    {
        _offsets[slot] = tableOffset;
        _slots[tableOffset] = slot;
        _lastUse[slot] = ++_clock;
    }

    private void Forget(long tableOffset)
    {
        if (_slots.Remove(tableOffset, out int slot))
        {
            _offsets[slot] = -1;
            _lastUse[slot] = 0;
        }
    }

    /// <summary>An empty slot, else the least recently used one (tables are clean, so it is simply dropped).</summary>
    private int Victim()
    {
        int victim = 0;
        for (int i = 0; i < _offsets.Length; i++)
        {
            if (_offsets[i] < 0)
            {
                return i;
            }

            if (_lastUse[i] < _lastUse[victim])
            {
                victim = i;
            }
        }

        _slots.Remove(_offsets[victim]);
        _offsets[victim] = -1;
        return victim;
    }
}
