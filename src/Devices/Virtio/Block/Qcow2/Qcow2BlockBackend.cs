using System.Buffers.Binary;

namespace Platform.Devices.Virtio.Block.Qcow2;

/// <summary>
/// A qcow2 image (versions 2 and 3) as virtio-blk's backend: the guest's clusters are found through the L1 table (in
/// memory) and L2 tables (<see cref="Qcow2L2Cache"/>); unallocated clusters read from the backing file or as zeros,
/// zero clusters as zeros, compressed clusters are inflated; writes to clusters this image owns alone go straight to
/// them, others get a fresh cluster at the end of the file (copy-on-write of what the write does not cover).
/// </summary>
/// <remarks>
/// <para><b>Crash consistency.</b> Every change reaches the file before the request completes, in the order the
/// specification asks: the data in its new cluster, then the refcounts, then the L2 entry (and a new L2 table before the
/// L1 entry that points at it). So an acknowledged write survives the VMM being killed, and an image killed at any
/// moment is consistent, with at worst leaked clusters (<c>qemu-img check</c> reports them; they cost only space).
/// Where a new cluster holds old data the write did not cover (copy-on-write from the backing file, a snapshot's
/// cluster or a compressed one), an fdatasync comes between the data and the L2 entry, so a host crash cannot leave the
/// entry pointing at a cluster whose copied part never reached the disk. FLUSH is an fsync of the image.</para>
/// <para><b>Concurrency.</b> Up to 32 requests run at once on the device's I/O threads. Reads and writes to clusters
/// already owned run in parallel without a lock (the L1 is read atomically, the L2 cache has its own short lock);
/// anything that changes metadata — allocation, copy-on-write, discard, write-zeroes — holds the allocation lock and
/// looks the mapping up again under it, so two writes racing to allocate one cluster allocate it once.</para>
/// <para><b>Hostile images.</b> The header and every table are checked at open (<see cref="Open"/>); each L2 table is
/// checked entry by entry when it is loaded. Corruption met while running fails the request (the guest gets IOERR,
/// the device counts it), and after corruption of refcounts the image takes no more writes.</para>
/// </remarks>
public sealed partial class Qcow2BlockBackend : IBlockBackend, IDiskImage, IGrowableDisk
{
    /// <summary>L2 entries looked at per lookup (a run of clusters is served by one pread/pwrite when contiguous).</summary>
    private const int MaxEntriesPerLookup = 64;
    /// <summary>Most bytes one allocating write claims at once (at least one cluster).</summary>
    private const int MaxAllocationBytes = 1 << 20;
    /// <summary>Most clusters one allocating write claims (bounds its stack use with small clusters).</summary>
    private const int MaxAllocationClusters = 256;
    /// <summary>Memory the L2 cache may use (8 MiB maps 64 GiB with 64 KiB clusters).</summary>
    private const int L2CacheBytes = 8 << 20;

    private readonly Qcow2ImageFile _file;
    private readonly Qcow2Header _header;
    /// <summary>The active L1 table; replaced (never resized in place) when the disk grows past it or a snapshot is applied.</summary>
    private ulong[] _l1;
    private long _l1TableOffset;
    private long _size;
    private int _snapshotCount;
    private long _snapshotsOffset;
    private readonly Qcow2L2Cache _l2Cache;
    private readonly Qcow2MetadataMap _metadata;
    private readonly Qcow2Refcounts? _refcounts;
    private readonly IFileSpaceOperations? _space;
    private readonly Lock _allocLock = new();
    private readonly int _clusterBits;
    private readonly int _clusterSize;
    private readonly int _l2Bits;
    private readonly long _readOnlyEnd;
    private readonly AlignedBufferPool _cowBuffers;
    private volatile string? _broken;
    private Counters _counters;

    /// <summary>The image file's path, as opened.</summary>
    public string Path { get; }

    public long Length => Volatile.Read(ref _size);

    public bool IsReadOnly { get; }

    /// <summary>Discard deallocates clusters in the tables (and punches their space when the host can).</summary>
    public bool SupportsDiscard => !IsReadOnly;

    public int RequiredAlignment => _file.Alignment;

    public string? LastError { get; private set; }

    public DiskImageFormat Format => DiskImageFormat.Qcow2;

    public int Version => _header.Version;

    public int ClusterSize => _clusterSize;

    /// <summary>The backing image, opened read-only (raw or qcow2), or null.</summary>
    public IBlockBackend? Backing { get; private init; }

    /// <summary>Clusters this backend allocated for data (not metadata).</summary>
    public long AllocatedClusters => Interlocked.Read(ref _counters.Allocated);

    /// <summary>Allocating writes that copied old data (backing file, compressed or shared cluster) around the guest's.</summary>
    public long CopyOnWrites => Interlocked.Read(ref _counters.CopyOnWrites);

    /// <summary>Reads and writes refused because the image's metadata is corrupt.</summary>
    public long CorruptionErrors => Interlocked.Read(ref _counters.Corruption);

    private int L2Entries => 1 << _l2Bits;

    /// <summary>Tests: the image file, to inject failures (<see cref="Qcow2ImageFile.WritesLeft"/>).</summary>
    internal Qcow2ImageFile File => _file;

    public bool Read(long offset, Span<byte> destination)
    {
        var target = new SpanReadTarget(destination);
        return ReadCore(offset, ref target);
    }

    public bool Read(long offset, IReadOnlyList<Memory<byte>> destinations)
    {
        ArgumentNullException.ThrowIfNull(destinations);
        var target = new ListReadTarget(destinations);
        return ReadCore(offset, ref target);
    }

    public bool Write(long offset, ReadOnlySpan<byte> source)
    {
        var data = new SpanWriteSource(source);
        return WriteCore(offset, ref data);
    }

    public bool Write(long offset, IReadOnlyList<ReadOnlyMemory<byte>> sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        var data = new ListWriteSource(sources);
        return WriteCore(offset, ref data);
    }

    public bool Flush()
    {
        if (IsReadOnly)
        {
            return true;
        }

        if (!_file.Flush())
        {
            LastError = _file.LastError;
            return false;
        }

        return true;
    }

    public DiskImageDescription Describe() => new(Path, DiskImageFormat.Qcow2, Length, _file.Length)
    {
        ReadOnly = IsReadOnly,
        Version = _header.Version,
        ClusterSize = _clusterSize,
        Snapshots = _snapshotCount,
        BackingName = _header.BackingFile,
        Backing = (Backing as IDiskImage)?.Describe(),
    };

    public void AddCounters(IDictionary<string, long> counters)
    {
        ArgumentNullException.ThrowIfNull(counters);
        counters["virtual_bytes"] = Length;
        counters["image_bytes"] = _file.Length;
        counters["allocated_clusters"] = AllocatedClusters;
        counters["copy_on_writes"] = CopyOnWrites;
        counters["cow_barriers"] = Interlocked.Read(ref _counters.Barriers);
        counters["compressed_reads"] = Interlocked.Read(ref _counters.CompressedReads);
        counters["backing_reads"] = Interlocked.Read(ref _counters.BackingReads);
        counters["l2_cache_hits"] = _l2Cache.Hits;
        counters["l2_cache_misses"] = _l2Cache.Misses;
        counters["corruption_errors"] = CorruptionErrors;
    }

    public void Dispose()
    {
        _file.Dispose();
        Backing?.Dispose();
    }

    /// <summary>One run of guest bytes that map the same way.</summary>
    /// <param name="HostOffset">Data: the host offset of the run's first byte. Compressed: unused.</param>
    /// <param name="Entry">The first cluster's L2 entry.</param>
    private readonly record struct Extent(Qcow2ClusterKind Kind, long HostOffset, long Length, bool Copied, ulong Entry);

    /// <summary>
    /// How [guest, guest + maxLength) begins: a run within one L2 table of clusters of one kind (data clusters only while
    /// contiguous on the host and equally owned; a compressed cluster alone).
    /// </summary>
    private bool TryMap(long guest, long maxLength, out Extent extent)
    {
        extent = default;
        long cluster = guest >> _clusterBits;
        int intra = (int)(guest & (_clusterSize - 1));
        long l1Index = cluster >> _l2Bits;
        int l2Index = (int)(cluster & (L2Entries - 1));
        long limit = Math.Min(maxLength, ((long)(L2Entries - l2Index) << _clusterBits) - intra);
        var l1 = Volatile.Read(ref _l1);
        ulong l1Entry = l1Index < l1.Length ? Volatile.Read(ref l1[l1Index]) : 0;
        long table = (long)(l1Entry & Qcow2Layout.OffsetMask);
        if (table == 0)
        {
            extent = new Extent(Qcow2ClusterKind.Unallocated, 0, limit, false, 0);
            return true;
        }

        int count = (int)Math.Min(MaxEntriesPerLookup, (intra + limit + _clusterSize - 1) >> _clusterBits);
        Span<ulong> entries = stackalloc ulong[MaxEntriesPerLookup];
        if (!_l2Cache.TryGetEntries(table, l2Index, entries[..count], out string? error))
        {
            return Corrupted(error);
        }

        ulong first = entries[0];
        var kind = Qcow2Layout.Kind(first);
        long host = (long)(first & Qcow2Layout.OffsetMask);
        bool copied = (first & Qcow2Layout.Copied) != 0;
        int run = 1;
        if (kind != Qcow2ClusterKind.Compressed)
        {
            while (run < count)
            {
                ulong next = entries[run];
                if (Qcow2Layout.Kind(next) != kind ||
                    (kind == Qcow2ClusterKind.Data && ((long)(next & Qcow2Layout.OffsetMask) != host + ((long)run << _clusterBits) ||
                        ((next & Qcow2Layout.Copied) != 0) != copied)))
                {
                    break;
                }

                run++;
            }
        }

        extent = new Extent(kind, kind == Qcow2ClusterKind.Data ? host + intra : 0, Math.Min(limit, ((long)run << _clusterBits) - intra), copied, first);
        return true;
    }

    /// <summary>Reads an L2 table and checks every entry (the loader of <see cref="Qcow2L2Cache"/>).</summary>
    private string? LoadL2Table(long tableOffset, Span<byte> table)
    {
        if (!_file.Read(tableOffset, table))
        {
            return $"reading the L2 table at 0x{tableOffset:x}: {_file.LastError}";
        }

        long end = _refcounts is null ? _readOnlyEnd : _refcounts.EndCluster << _clusterBits;
        for (int i = 0; i < L2Entries; i++)
        {
            ulong entry = BinaryPrimitives.ReadUInt64BigEndian(table[(i * 8)..]);
            if (entry != 0 && CheckL2Entry(entry, end) is { } why)
            {
                return $"{Path}: L2 table at 0x{tableOffset:x}, entry {i} (0x{entry:x16}) {why}: the image is corrupt (check it with qemu-img check)";
            }
        }

        return null;
    }

    private string? CheckL2Entry(ulong entry, long end)
    {
        if ((entry & Qcow2Layout.Compressed) != 0)
        {
            if ((entry & Qcow2Layout.Copied) != 0)
            {
                return "is compressed and marked as owned";
            }

            var (offset, sectors) = Qcow2Layout.CompressedExtent(entry, _clusterBits);
            long dataEnd = (offset & ~(long)(Qcow2Layout.SectorSize - 1)) + (sectors * Qcow2Layout.SectorSize);
            return offset < _clusterSize ? "points compressed data into the header"
                : offset >= end || dataEnd > end ? "points compressed data past the end of the file"
                : null;
        }

        if ((entry & Qcow2Layout.L2Reserved) != 0)
        {
            return "has reserved bits set";
        }

        if ((entry & Qcow2Layout.ZeroFlag) != 0 && _header.Version < 3)
        {
            return "has the zero flag in a version 2 image";
        }

        long host = (long)(entry & Qcow2Layout.OffsetMask);
        if (host == 0)
        {
            return (entry & Qcow2Layout.Copied) != 0 ? "owns host offset 0 without an external data file" : null;
        }

        return host % _clusterSize != 0 ? "points at an unaligned cluster"
            : host < _clusterSize ? "points at the header"
            : host + _clusterSize > end ? "points past the end of the file"
            : _metadata.Contains(host >> _clusterBits) ? "points at the image's own metadata"
            : null;
    }

    /// <summary>Corruption met while serving a request: the request fails, and it is counted.</summary>
    private bool Corrupted(string? why)
    {
        Interlocked.Increment(ref _counters.Corruption);
        LastError = why;
        return false;
    }

    private bool IoFailed(string what)
    {
        LastError = $"{what}: {_file.LastError}";
        return false;
    }

    private bool InRange(long offset, long length)
    {
        if (offset >= 0 && length >= 0 && offset <= Length && length <= Length - offset)
        {
            return true;
        }

        LastError = $"request at {offset}+{length} is outside the {Length}-byte disk";
        return false;
    }

    private struct Counters
    {
        public long Allocated;
        public long CopyOnWrites;
        public long Barriers;
        public long CompressedReads;
        public long BackingReads;
        public long Corruption;
    }
}
