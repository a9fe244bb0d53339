using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Platform.Devices.Virtio.Block.Qcow2;

/// <summary>How to open a qcow2 image.</summary>
public sealed record Qcow2OpenOptions
{
    /// <summary>Open for reading only: nothing is ever written (not even the autoclear bits).</summary>
    public bool ReadOnly { get; init; }

    /// <summary>512 when the handle was opened with O_DIRECT, else 1.</summary>
    public int RequiredAlignment { get; init; } = 1;

    /// <summary>Hole punching for freed clusters; null keeps their space in the file.</summary>
    public IFileSpaceOperations? Space { get; init; }

    /// <summary>
    /// False refuses an image that names a backing file, without opening it: for images from people who may not read
    /// host files (an upload naming <c>/etc/shadow</c> as its backing file would otherwise show it to the guest).
    /// </summary>
    public bool AllowBackingFile { get; init; } = true;
}

// Opening: the header, then the L1 and refcount tables, every table checked to lie inside the file and apart from
// the others, then the backing chain. Anything wrong throws a DiskImageException naming the image and the field.
public sealed partial class Qcow2BlockBackend
{
    /// <summary>Most metadata clusters we list for overlap checks: more than any real image has.</summary>
    private const int MaxMetadataClusters = 1 << 24;
    private const int MaxSnapshotExtraData = 1024;
    private const long MaxSnapshotTableBytes = 64L << 20;

    private Qcow2BlockBackend(string path, Qcow2ImageFile file, Qcow2Header header, ulong[] l1, Qcow2MetadataMap metadata,
        AlignedBuffer refcountTable, bool readOnly, IFileSpaceOperations? space, long fileLength)
    {
        Path = path;
        _file = file;
        _header = header;
        _l1 = l1;
        _l1TableOffset = header.L1TableOffset;
        _size = header.Size;
        _snapshotCount = header.SnapshotCount;
        _snapshotsOffset = header.SnapshotsOffset;
        _metadata = metadata;
        _space = space;
        IsReadOnly = readOnly;
        _clusterBits = header.ClusterBits;
        _clusterSize = header.ClusterSize;
        _l2Bits = header.ClusterBits - 3;
        long endCluster = (fileLength + _clusterSize - 1) >> _clusterBits;
        _readOnlyEnd = endCluster << _clusterBits;
        if (!readOnly)
        {
            _refcounts = new Qcow2Refcounts(file, metadata, header.ClusterBits, header.RefcountOrder, refcountTable,
                header.RefcountTableOffset, header.RefcountTableClusters, endCluster);
        }

        int capacity = (int)Math.Clamp(Math.Min(L2CacheBytes >> _clusterBits, Math.Max(1, header.L1Size)), 1, 16384);
        _l2Cache = new Qcow2L2Cache(file, _clusterSize, capacity, LoadL2Table);
        int cowBytes = Math.Max(_clusterSize, Math.Min(MaxAllocationBytes, MaxAllocationClusters << _clusterBits));
        _cowBuffers = new AlignedBufferPool(cowBytes, keep: 4);
    }

    /// <summary>
    /// Opens the qcow2 image on <paramref name="file"/> (which this takes over: it is closed on failure too) and its
    /// backing chain; throws <see cref="DiskImageException"/> for a corrupt or unsupported image and
    /// <see cref="IOException"/> when a file cannot be read.
    /// </summary>
    public static Qcow2BlockBackend Open(SafeFileHandle file, string path, Qcow2OpenOptions options)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(options);
        return Open(file, path, options, new BackingChain(path));
    }

    internal static Qcow2BlockBackend Open(SafeFileHandle file, string path, Qcow2OpenOptions options, BackingChain chain)
    {
        var image = new Qcow2ImageFile(file, options.RequiredAlignment);
        IBlockBackend? backing = null;
        try
        {
            long fileLength = RandomAccess.GetLength(file);
            var header = ReadHeader(image, path, fileLength);
            CheckFeatures(header, options.ReadOnly);
            ulong[] l1 = ReadL1(image, header, fileLength);
            var refcountTable = new AlignedBuffer(header.RefcountTableClusters * header.ClusterSize);
            if (!image.Read(header.RefcountTableOffset, refcountTable.Span))
            {
                throw new IOException($"{path}: reading the refcount table: {image.LastError}");
            }

            var metadata = ListMetadata(image, header, l1, refcountTable.Span, fileLength);
            if (!options.ReadOnly && header.AutoclearFeatures != 0 &&
                !image.WriteUnaligned(Qcow2Header.AutoclearFeaturesField, new byte[8]))
            {
                // Autoclear features we do not maintain (bitmaps) must be cleared before we change the image.
                throw new IOException($"{path}: clearing the autoclear feature bits: {image.LastError}");
            }

            if (header.BackingFile is { } name)
            {
                backing = options.AllowBackingFile
                    ? chain.OpenBacking(name, header.BackingFormat)
                    : throw new DiskImageException(
                        $"{path}: the image has a backing file ('{name}'); it must stand alone. Flatten it first: qemu-img convert -O qcow2 IN OUT.");
            }

            return new Qcow2BlockBackend(path, image, header, l1, metadata, refcountTable, options.ReadOnly, options.Space, fileLength)
            {
                Backing = backing,
            };
        }
        catch
        {
            backing?.Dispose();
            image.Dispose();
            throw;
        }
    }

    private static Qcow2Header ReadHeader(Qcow2ImageFile image, string path, long fileLength)
    {
        // The cluster size is in the first 24 bytes; the whole first cluster holds the extensions and backing name.
        byte[] start = new byte[(int)Math.Min(fileLength, Qcow2Header.V3MinHeaderLength)];
        if (!image.ReadUnaligned(0, start))
        {
            throw new IOException($"{path}: reading the header: {image.LastError}");
        }

        if (start.Length < 24)
        {
            return Qcow2Header.Parse(start, fileLength, path); // refuses it with the reason
        }

        uint clusterBits = BinaryPrimitives.ReadUInt32BigEndian(start.AsSpan(20));
        int clusterBytes = clusterBits is >= Qcow2Header.MinClusterBits and <= Qcow2Header.MaxClusterBits ? 1 << (int)clusterBits : start.Length;
        byte[] first = new byte[(int)Math.Min(fileLength, Math.Max(clusterBytes, start.Length))];
        if (!image.ReadUnaligned(0, first))
        {
            throw new IOException($"{path}: reading the header: {image.LastError}");
        }

        return Qcow2Header.Parse(first, fileLength, path);
    }

    private static void CheckFeatures(Qcow2Header header, bool readOnly)
    {
        var unsupported = header.UnsupportedIncompatibleFeatures();
        if (unsupported.Count > 0)
        {
            throw new DiskImageException(
                $"{header.Image}: the image uses incompatible feature {string.Join(", ", unsupported)}, which platform-vmm does not implement. " +
                "Convert it to a plain qcow2 image: qemu-img convert -O qcow2 -o compat=1.1 IN OUT.");
        }

        if (readOnly)
        {
            return; // a dirty or corrupt-marked image is safe to read: only its refcounts, or a later write, are in doubt
        }

        if ((header.IncompatibleFeatures & Qcow2Header.IncompatibleDirty) != 0)
        {
            throw new DiskImageException(
                $"{header.Image}: the image is marked dirty: it was not closed cleanly while using lazy refcounts, so its refcounts " +
                "need repair, which platform-vmm does not do. Repair it with qemu-img check -r all, or open it read-only (,ro).");
        }

        if ((header.IncompatibleFeatures & Qcow2Header.IncompatibleCorrupt) != 0)
        {
            throw new DiskImageException(
                $"{header.Image}: the image is marked corrupt and must not be written. Repair it with qemu-img check -r all, or open it read-only (,ro).");
        }
    }

    private static ulong[] ReadL1(Qcow2ImageFile image, Qcow2Header header, long fileLength)
    {
        byte[] bytes = new byte[header.L1Size * 8];
        if (header.L1Size > 0 && !image.ReadUnaligned(header.L1TableOffset, bytes))
        {
            throw new IOException($"{header.Image}: reading the L1 table: {image.LastError}");
        }

        long end = (fileLength + header.ClusterSize - 1) / header.ClusterSize * header.ClusterSize;
        ulong[] l1 = new ulong[header.L1Size];
        for (int i = 0; i < l1.Length; i++)
        {
            ulong entry = BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(i * 8));
            l1[i] = entry;
            if (entry == 0)
            {
                continue;
            }

            long table = (long)(entry & Qcow2Layout.OffsetMask);
            string? why = (entry & Qcow2Layout.L1Reserved) != 0 ? "has reserved bits set"
                : table == 0 ? "is marked owned but names no L2 table"
                : table % header.ClusterSize != 0 ? "points at an unaligned L2 table"
                : table < header.ClusterSize ? "points an L2 table at the header"
                : table + header.ClusterSize > end ? "points an L2 table past the end of the file"
                : null;
            if (why is not null)
            {
                throw header.Corrupt($"L1 entry {i} (0x{entry:x16}) {why}");
            }
        }

        return l1;
    }

    /// <summary>
    /// Every cluster the active metadata occupies, checked so that no two structures share one (an L2 table inside the
    /// refcount table, a refcount block on the header…).
    /// </summary>
    private static Qcow2MetadataMap ListMetadata(Qcow2ImageFile image, Qcow2Header header, ulong[] l1, ReadOnlySpan<byte> refcountTable, long fileLength)
    {
        var names = new List<string>();
        var owners = new List<(long Cluster, int Owner)>();
        long fileClusters = (fileLength + header.ClusterSize - 1) >> header.ClusterBits;
        void Add(string name, long offset, long bytes)
        {
            int owner = names.Count;
            names.Add(name);
            for (long c = offset >> header.ClusterBits; c <= (offset + bytes - 1) >> header.ClusterBits; c++)
            {
                // Distinct clusters all lie in the file: more than it has means two structures overlap somewhere.
                if (owners.Count > fileClusters || owners.Count >= MaxMetadataClusters)
                {
                    throw header.Corrupt("its metadata claims more clusters than the file has, so tables overlap");
                }

                owners.Add((c, owner));
            }
        }

        Add("the header", 0, header.ClusterSize);
        if (header.L1Size > 0)
        {
            Add("the L1 table", header.L1TableOffset, (long)header.L1Size * 8);
        }

        Add("the refcount table", header.RefcountTableOffset, (long)header.RefcountTableClusters * header.ClusterSize);
        long end = fileClusters << header.ClusterBits;
        for (int i = 0; i < refcountTable.Length / 8; i++)
        {
            ulong entry = BinaryPrimitives.ReadUInt64BigEndian(refcountTable[(i * 8)..]);
            if (entry == 0)
            {
                continue;
            }

            long block = (long)entry;
            if ((entry & 0x1FF) != 0 || block % header.ClusterSize != 0 || block < header.ClusterSize || block + header.ClusterSize > end)
            {
                throw header.Corrupt($"refcount table entry {i} (0x{entry:x16}) is not a cluster inside the file");
            }

            Add($"refcount block {i}", block, header.ClusterSize);
        }

        for (int i = 0; i < l1.Length; i++)
        {
            if (l1[i] != 0)
            {
                Add($"the L2 table of L1 entry {i}", (long)(l1[i] & Qcow2Layout.OffsetMask), header.ClusterSize);
            }
        }

        ListSnapshots(image, header, fileLength, Add);
        owners.Sort();
        for (int i = 1; i < owners.Count; i++)
        {
            if (owners[i].Cluster == owners[i - 1].Cluster)
            {
                throw header.Corrupt(
                    $"{names[owners[i - 1].Owner]} and {names[owners[i].Owner]} overlap at 0x{owners[i].Cluster << header.ClusterBits:x}");
            }
        }

        return new Qcow2MetadataMap(owners.Select(o => o.Cluster));
    }

    /// <summary>The snapshot table and each snapshot's L1 table (read through the active table only; never applied).</summary>
    private static void ListSnapshots(Qcow2ImageFile image, Qcow2Header header, long fileLength, Action<string, long, long> add)
    {
        if (header.SnapshotCount == 0)
        {
            return;
        }

        Span<byte> entry = stackalloc byte[40];
        long at = header.SnapshotsOffset;
        long used = at; // the last entry's padding need not be in the file (QEMU does not write it)
        for (int i = 0; i < header.SnapshotCount; i++)
        {
            if (at + entry.Length > fileLength || at - header.SnapshotsOffset > MaxSnapshotTableBytes)
            {
                throw header.Corrupt($"the snapshot table ends outside the file or past {MaxSnapshotTableBytes >> 20} MiB (snapshot {i})");
            }

            if (!image.ReadUnaligned(at, entry))
            {
                throw new IOException($"{header.Image}: reading the snapshot table: {image.LastError}");
            }

            ulong l1Offset = BinaryPrimitives.ReadUInt64BigEndian(entry);
            uint l1Size = BinaryPrimitives.ReadUInt32BigEndian(entry[8..]);
            int idLength = BinaryPrimitives.ReadUInt16BigEndian(entry[12..]);
            int nameLength = BinaryPrimitives.ReadUInt16BigEndian(entry[14..]);
            uint extra = BinaryPrimitives.ReadUInt32BigEndian(entry[36..]);
            if (extra > MaxSnapshotExtraData)
            {
                throw header.Corrupt($"snapshot {i} has {extra} bytes of extra data (at most {MaxSnapshotExtraData})");
            }

            if (l1Size > 0)
            {
                if ((long)l1Size * 8 > Qcow2Header.MaxL1Bytes || l1Offset > long.MaxValue / 2)
                {
                    throw header.Corrupt($"snapshot {i}'s L1 table ({l1Size} entries at 0x{l1Offset:x}) is too large");
                }

                header.CheckRange($"snapshot {i}'s L1 table", (long)l1Offset, (long)l1Size * 8, fileLength);
                add($"snapshot {i}'s L1 table", (long)l1Offset, (long)l1Size * 8);
            }

            used = at + 40 + extra + idLength + nameLength;
            at += (40 + extra + idLength + nameLength + 7) & ~7L;
        }

        header.CheckRange("the snapshot table", header.SnapshotsOffset, used - header.SnapshotsOffset, fileLength);
        add("the snapshot table", header.SnapshotsOffset, used - header.SnapshotsOffset);
    }
}
