using System.Buffers;
using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Platform.Web.Services.History;

/// <summary>
/// One VM's (or the host's) history in a fixed-size file: a 64-byte header, then the rings of
/// <see cref="HistoryArchives.All"/> one after the other. A slot is its bucket's start (uint32 Unix seconds; 0 for
/// never written), the number of samples averaged in it (uint32) and one float32 per series. Each sample updates its
/// bucket in every ring with one positioned write, so the file never grows, a sample is in the page cache (and
/// survives the dashboard being killed) as soon as <see cref="Record"/> returns, and <see cref="Flush"/> (fsync, each
/// minute) bounds what a host crash can take. A slot whose stored start is not the bucket a read expects there is
/// from an older lap of the ring and counts as empty: that is the whole of retention.
/// </summary>
public sealed class HistoryFile : IDisposable
{
    public const int HeaderSize = 64;
    private const ulong Magic = 0x3154_5349_4854_4c50; // "PLTHIST1", little-endian
    private const int FormatVersion = 1;
    private const int SlotHeaderSize = 8;

    private readonly SafeFileHandle _handle;
    private readonly int _seriesCount;
    private readonly int _slotSize;
    private readonly long[] _ringOffsets;
    private readonly Bucket[] _current;
    private readonly Lock _lock = new();
    private bool _unflushed;

    private HistoryFile(string path, SafeFileHandle handle, int seriesCount)
    {
        Path = path;
        _handle = handle;
        _seriesCount = seriesCount;
        _slotSize = SlotSize(seriesCount);
        _ringOffsets = new long[HistoryArchives.All.Count];
        long offset = HeaderSize;
        for (int i = 0; i < _ringOffsets.Length; i++)
        {
            _ringOffsets[i] = offset;
            offset += (long)HistoryArchives.All[i].Slots * _slotSize;
        }

        _current = HistoryArchives.All.Select(_ => new Bucket(seriesCount)).ToArray();
    }

    public string Path { get; }

    /// <summary>The file's size for <paramref name="seriesCount"/> series: what one VM's history costs on disk, at most.</summary>
    public static long SizeFor(int seriesCount) => HeaderSize + (long)HistoryArchives.TotalSlots * SlotSize(seriesCount);

    /// <summary>
    /// Opens the file, or makes it (sparse: blocks are allocated as rings fill). A file of another format or series
    /// count (a damaged one, or one from a later version) is moved aside to <c>.old</c> and a new one started.
    /// </summary>
    public static HistoryFile Open(string path, int seriesCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(seriesCount, 1);
        var handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
        try
        {
            long expected = SizeFor(seriesCount);
            Span<byte> header = stackalloc byte[HeaderSize];
            int read = RandomAccess.Read(handle, header, 0);
            if (read == HeaderSize && HeaderMatches(header, seriesCount) && RandomAccess.GetLength(handle) == expected)
            {
                return new HistoryFile(path, handle, seriesCount);
            }

            if (read > 0)
            {
                handle.Dispose();
                File.Move(path, path + ".old", overwrite: true);
                handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite);
            }

            WriteHeader(header, seriesCount);
            RandomAccess.SetLength(handle, expected);
            RandomAccess.Write(handle, header, 0);
            return new HistoryFile(path, handle, seriesCount);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Adds one sample at <paramref name="at"/> to its bucket in every ring (the mean of the bucket's samples).</summary>
    public void Record(DateTimeOffset at, ReadOnlySpan<double> values)
    {
        if (values.Length != _seriesCount)
        {
            throw new ArgumentException($"Expected {_seriesCount} values, got {values.Length}.", nameof(values));
        }

        long seconds = at.ToUnixTimeSeconds();
        if (seconds <= 0 || seconds > uint.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(at), at, "A history time must lie between 1970 and 2106.");
        }

        byte[] slot = ArrayPool<byte>.Shared.Rent(_slotSize);
        try
        {
            lock (_lock)
            {
                for (int ring = 0; ring < _current.Length; ring++)
                {
                    var archive = HistoryArchives.All[ring];
                    uint start = (uint)(seconds / archive.StepSeconds * archive.StepSeconds);
                    var bucket = _current[ring];
                    if (bucket.Start != start)
                    {
                        Load(ring, start, bucket, slot);
                    }

                    bucket.Add(values);
                    bucket.WriteTo(slot.AsSpan(0, _slotSize));
                    RandomAccess.Write(_handle, slot.AsSpan(0, _slotSize), SlotOffset(ring, start));
                }

                _unflushed = true;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(slot);
        }
    }

    /// <summary>
    /// The range ending with the bucket that holds <paramref name="now"/>, read from the finest ring that reaches back
    /// over all of it; each point is the sample-weighted mean of that ring's buckets within it.
    /// </summary>
    public HistoryData Read(HistoryRange range, DateTimeOffset now, IReadOnlyList<HistorySeries> series)
    {
        if (series.Count != _seriesCount)
        {
            throw new ArgumentException($"This file holds {_seriesCount} series, not {series.Count}.", nameof(series));
        }

        int ring = HistoryRanges.ArchiveFor(range);
        var archive = HistoryArchives.All[ring];
        var layout = PointLayout.For(range, now);
        var sums = new double[layout.Count * _seriesCount];
        var weights = new double[layout.Count];
        // Only the slots the range can touch: an hour is 360 of the 10 s ring's 8 640, read in one or two pieces.
        long firstBucket = layout.Start / archive.StepSeconds;
        int span = (int)Math.Min(archive.Slots, (layout.End - layout.Start) / archive.StepSeconds);
        int firstSlot = (int)(firstBucket % archive.Slots);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(span * _slotSize);
        try
        {
            int head = Math.Min(span, archive.Slots - firstSlot);
            lock (_lock)
            {
                RandomAccess.Read(_handle, buffer.AsSpan(0, head * _slotSize), _ringOffsets[ring] + ((long)firstSlot * _slotSize));
                if (span > head)
                {
                    RandomAccess.Read(_handle, buffer.AsSpan(head * _slotSize, (span - head) * _slotSize), _ringOffsets[ring]);
                }
            }

            for (int i = 0; i < span; i++)
            {
                int index = (firstSlot + i) % archive.Slots;
                var slot = buffer.AsSpan(i * _slotSize, _slotSize);
                uint start = BinaryPrimitives.ReadUInt32LittleEndian(slot);
                uint count = BinaryPrimitives.ReadUInt32LittleEndian(slot[4..]);
                // Empty, outside the range (an older lap), or not where this start belongs (a damaged slot): skip.
                if (count == 0 || start < layout.Start || start >= layout.End || start / archive.StepSeconds % archive.Slots != index)
                {
                    continue;
                }

                int point = (int)((start - layout.Start) / layout.StepSeconds);
                weights[point] += count;
                for (int s = 0; s < _seriesCount; s++)
                {
                    float value = BinaryPrimitives.ReadSingleLittleEndian(slot[(SlotHeaderSize + (s * 4))..]);
                    sums[(point * _seriesCount) + s] += value * (double)count;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return layout.ToData(range, series, sums, weights);
    }

    /// <summary>Makes what <see cref="Record"/> wrote durable (fsync), if anything was written since the last flush.</summary>
    public void Flush()
    {
        lock (_lock)
        {
            if (_unflushed && !_handle.IsClosed)
            {
                RandomAccess.FlushToDisk(_handle);
                _unflushed = false;
            }
        }
    }

    public void Dispose()
    {
        Flush();
        _handle.Dispose();
    }

    private static int SlotSize(int seriesCount) => SlotHeaderSize + (seriesCount * sizeof(float));

    private long SlotOffset(int ring, uint start)
    {
        var archive = HistoryArchives.All[ring];
        return _ringOffsets[ring] + (start / archive.StepSeconds % archive.Slots * _slotSize);
    }

    /// <summary>Picks up the bucket where the file has it (a restart within the bucket), else starts it empty.</summary>
    private void Load(int ring, uint start, Bucket bucket, byte[] scratch)
    {
        var slot = scratch.AsSpan(0, _slotSize);
        bucket.Reset(start);
        if (RandomAccess.Read(_handle, slot, SlotOffset(ring, start)) == _slotSize
            && BinaryPrimitives.ReadUInt32LittleEndian(slot) == start)
        {
            bucket.ReadFrom(slot);
        }
    }

    private static bool HeaderMatches(ReadOnlySpan<byte> header, int seriesCount)
    {
        if (BinaryPrimitives.ReadUInt64LittleEndian(header) != Magic
            || BinaryPrimitives.ReadInt32LittleEndian(header[8..]) != FormatVersion
            || BinaryPrimitives.ReadInt32LittleEndian(header[12..]) != seriesCount
            || BinaryPrimitives.ReadInt32LittleEndian(header[16..]) != HistoryArchives.All.Count)
        {
            return false;
        }

        for (int i = 0; i < HistoryArchives.All.Count; i++)
        {
            var archive = HistoryArchives.All[i];
            if (BinaryPrimitives.ReadInt32LittleEndian(header[(20 + (i * 8))..]) != archive.StepSeconds
                || BinaryPrimitives.ReadInt32LittleEndian(header[(24 + (i * 8))..]) != archive.Slots)
            {
                return false;
            }
        }

        return true;
    }

    private static void WriteHeader(Span<byte> header, int seriesCount)
    {
        header.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(header, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(header[12..], seriesCount);
        BinaryPrimitives.WriteInt32LittleEndian(header[16..], HistoryArchives.All.Count);
        for (int i = 0; i < HistoryArchives.All.Count; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(header[(20 + (i * 8))..], (int)HistoryArchives.All[i].StepSeconds);
            BinaryPrimitives.WriteInt32LittleEndian(header[(24 + (i * 8))..], HistoryArchives.All[i].Slots);
        }
    }

    /// <summary>The bucket a ring is filling now: its start, how many samples, and their running means.</summary>
    private sealed class Bucket(int seriesCount)
    {
        private readonly double[] _means = new double[seriesCount];

        public uint Start { get; private set; }

        private uint Count { get; set; }

        public void Reset(uint start)
        {
            Start = start;
            Count = 0;
            Array.Clear(_means);
        }

        public void Add(ReadOnlySpan<double> values)
        {
            Count++;
            for (int i = 0; i < _means.Length; i++)
            {
                _means[i] += (values[i] - _means[i]) / Count;
            }
        }

        public void ReadFrom(ReadOnlySpan<byte> slot)
        {
            Count = BinaryPrimitives.ReadUInt32LittleEndian(slot[4..]);
            for (int i = 0; i < _means.Length; i++)
            {
                _means[i] = BinaryPrimitives.ReadSingleLittleEndian(slot[(SlotHeaderSize + (i * 4))..]);
            }
        }

        public void WriteTo(Span<byte> slot)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(slot, Start);
            BinaryPrimitives.WriteUInt32LittleEndian(slot[4..], Count);
            for (int i = 0; i < _means.Length; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(slot[(SlotHeaderSize + (i * 4))..], (float)_means[i]);
            }
        }
    }
}
