using System.Buffers.Binary;
using System.Text;

namespace Platform.Devices.Virtio.Block.Qcow2;

/// <summary>
/// The qcow2 header (QEMU's docs/interop/qcow2.txt), its extensions and the backing file name, parsed from the image's
/// first cluster and checked field by field against the file before anything else is read: a hostile image is refused
/// here with a message naming the field, never followed to a huge allocation or a read past the file.
/// </summary>
internal sealed class Qcow2Header
{
    public const int V2HeaderLength = 72;
    public const int V3MinHeaderLength = 104;
    public const int MinClusterBits = 9;
    /// <summary>2 MiB clusters, QEMU's limit too.</summary>
    public const int MaxClusterBits = 21;
    public const int MaxBackingNameLength = 1023;
    /// <summary>QEMU's limits, which bound what a hostile header can make us allocate.</summary>
    public const int MaxL1Bytes = 32 << 20;
    public const int MaxRefcountTableBytes = 8 << 20;
    public const int MaxSnapshots = 65536;
    public const int MaxRefcountOrder = 6;
    /// <summary>64 PiB: an L2 entry holds host offsets up to bit 55, and no guest cluster can be mapped past this.</summary>
    public const long MaxVirtualSize = 1L << 56;
    private const int MaxExtensions = 4096;
    private const int FeatureNameEntryLength = 48;

    public const uint ExtensionEnd = 0;
    public const uint ExtensionBackingFormat = 0xE2792ACA;
    public const uint ExtensionFeatureNames = 0x6803F857;
    public const uint ExtensionBitmaps = 0x23852875;
    public const uint ExtensionEncryption = 0x0537BE77;
    public const uint ExtensionExternalDataFile = 0x44415441;

    public const ulong IncompatibleDirty = 1UL << 0;
    public const ulong IncompatibleCorrupt = 1UL << 1;
    public const ulong IncompatibleExternalData = 1UL << 2;
    public const ulong IncompatibleCompressionType = 1UL << 3;
    public const ulong IncompatibleExtendedL2 = 1UL << 4;
    public const ulong CompatibleLazyRefcounts = 1UL << 0;

    /// <summary>Byte offsets of the fields we rewrite.</summary>
    public const int RefcountTableOffsetField = 48;
    public const int AutoclearFeaturesField = 88;

    private readonly Dictionary<(int Type, int Bit), string> _featureNames = [];

    private Qcow2Header(string image) => Image = image;

    /// <summary>How messages name the image (its path).</summary>
    public string Image { get; }

    public int Version { get; private init; }

    public int ClusterBits { get; private init; }

    public int ClusterSize => 1 << ClusterBits;

    /// <summary>Virtual disk size in bytes.</summary>
    public long Size { get; private init; }

    public int L1Size { get; private init; }

    public long L1TableOffset { get; private init; }

    public long RefcountTableOffset { get; private init; }

    public int RefcountTableClusters { get; private init; }

    public int SnapshotCount { get; private init; }

    public long SnapshotsOffset { get; private init; }

    public ulong IncompatibleFeatures { get; private init; }

    public ulong CompatibleFeatures { get; private init; }

    public ulong AutoclearFeatures { get; private init; }

    public int RefcountOrder { get; private init; }

    public int HeaderLength { get; private init; }

    public string? BackingFile { get; private set; }

    /// <summary>The backing file format extension ("raw", "qcow2"…), or null when absent (then the backing file is probed).</summary>
    public string? BackingFormat { get; private set; }

    /// <summary>Guest bytes one L1 entry maps: an L2 table's entries times the cluster size.</summary>
    public long BytesPerL1Entry => 1L << ((2 * ClusterBits) - 3);

    /// <summary>L1 entries needed for the virtual size.</summary>
    public long RequiredL1Entries => (Size + BytesPerL1Entry - 1) / BytesPerL1Entry;

    /// <summary>
    /// Parses and checks the header. <paramref name="firstBytes"/> are the file's first bytes: at least the header, and
    /// the whole first cluster when the file is that long (extensions and the backing file name live there).
    /// </summary>
    public static Qcow2Header Parse(ReadOnlySpan<byte> firstBytes, long fileLength, string image)
    {
        var checker = new Qcow2Header(image);
        if (firstBytes.Length < V2HeaderLength || fileLength < V2HeaderLength)
        {
            throw checker.Corrupt($"the file is {fileLength} bytes, shorter than a qcow2 header");
        }

        if (!DiskImageProbe.HasQcowMagic(firstBytes))
        {
            throw new DiskImageException($"{image}: not a qcow2 image (no QFI\\xfb magic). Use format=raw for a raw image.");
        }

        uint version = U32(firstBytes, 4);
        if (version is not (2 or 3))
        {
            throw new DiskImageException(version == 1
                ? $"{image}: qcow version 1 images are not supported; convert it with qemu-img convert -O qcow2."
                : $"{image}: qcow2 version {version} is not supported (versions 2 and 3 are).");
        }

        uint clusterBits = U32(firstBytes, 20);
        if (clusterBits is < MinClusterBits or > MaxClusterBits)
        {
            throw checker.Corrupt($"cluster_bits is {clusterBits}; it must be {MinClusterBits} to {MaxClusterBits} (512 bytes to 2 MiB clusters)");
        }

        int clusterSize = 1 << (int)clusterBits;
        uint headerLength = version == 2 ? V2HeaderLength : U32(firstBytes, 100);
        if (version == 3 && (headerLength < V3MinHeaderLength || headerLength % 8 != 0 || headerLength > clusterSize))
        {
            throw checker.Corrupt($"header_length is {headerLength}; version 3 needs at least {V3MinHeaderLength}, a multiple of 8, within the first cluster");
        }

        if (firstBytes.Length < headerLength)
        {
            throw checker.Corrupt($"the file ends inside its {headerLength}-byte header");
        }

        ulong size = U64(firstBytes, 24);
        uint refcountOrder = version == 2 ? 4 : U32(firstBytes, 96);
        var header = new Qcow2Header(image)
        {
            Version = (int)version,
            ClusterBits = (int)clusterBits,
            Size = size > MaxVirtualSize ? throw checker.Corrupt($"the virtual size {size} bytes is past the 64 PiB qcow2 tables can map") : (long)size,
            L1Size = checked((int)Math.Min(U32(firstBytes, 36), int.MaxValue)),
            L1TableOffset = Offset(checker, firstBytes, 40, "l1_table_offset"),
            RefcountTableOffset = Offset(checker, firstBytes, 48, "refcount_table_offset"),
            RefcountTableClusters = (int)Math.Min(U32(firstBytes, 56), int.MaxValue),
            SnapshotCount = (int)Math.Min(U32(firstBytes, 60), int.MaxValue),
            SnapshotsOffset = Offset(checker, firstBytes, 64, "snapshots_offset"),
            IncompatibleFeatures = version == 3 ? U64(firstBytes, 72) : 0,
            CompatibleFeatures = version == 3 ? U64(firstBytes, 80) : 0,
            AutoclearFeatures = version == 3 ? U64(firstBytes, 88) : 0,
            RefcountOrder = refcountOrder <= MaxRefcountOrder
                ? (int)refcountOrder
                : throw checker.Corrupt($"refcount_order is {refcountOrder}; it may not exceed {MaxRefcountOrder} (64-bit refcounts)"),
            HeaderLength = (int)headerLength,
        };

        if (U32(firstBytes, 32) is var crypt and not 0)
        {
            throw new DiskImageException($"{image}: the image is encrypted ({(crypt == 1 ? "AES" : crypt == 2 ? "LUKS" : $"method {crypt}")}); encrypted qcow2 images are not supported.");
        }

        header.CheckCompressionType(firstBytes);
        header.CheckTables(fileLength);
        header.ReadExtensions(firstBytes, U64(firstBytes, 8), U32(firstBytes, 16), fileLength);
        return header;
    }

    /// <summary>Incompatible feature bits set in the image that we do not implement, by name.</summary>
    public IReadOnlyList<string> UnsupportedIncompatibleFeatures()
    {
        var names = new List<string>();
        for (int bit = 0; bit < 64; bit++)
        {
            ulong mask = 1UL << bit;
            // Dirty and corrupt are understood (and refused or honoured by the backend), not unknown.
            if ((IncompatibleFeatures & mask) != 0 && mask is not (IncompatibleDirty or IncompatibleCorrupt))
            {
                names.Add(FeatureName(0, bit));
            }
        }

        return names;
    }

    /// <summary>A feature's name from the image's feature name table, else the one the specification gives, else its bit.</summary>
    public string FeatureName(int type, int bit)
    {
        if (_featureNames.TryGetValue((type, bit), out string? name))
        {
            return $"'{name}' (bit {bit})";
        }

        return (type, bit) switch
        {
            (0, 0) => "'dirty' (bit 0)",
            (0, 1) => "'corrupt' (bit 1)",
            (0, 2) => "'external data file' (bit 2)",
            (0, 3) => "'compression type', zstd (bit 3)",
            (0, 4) => "'extended L2 entries', subclusters (bit 4)",
            (1, 0) => "'lazy refcounts' (bit 0)",
            (2, 0) => "'bitmaps' (bit 0)",
            (2, 1) => "'raw external data' (bit 1)",
            _ => $"bit {bit}",
        };
    }

    public DiskImageException Corrupt(string what) =>
        new($"{Image}: {what}. The qcow2 image is corrupt; check it with qemu-img check.");

    private static uint U32(ReadOnlySpan<byte> bytes, int at) => BinaryPrimitives.ReadUInt32BigEndian(bytes[at..]);

    private static ulong U64(ReadOnlySpan<byte> bytes, int at) => BinaryPrimitives.ReadUInt64BigEndian(bytes[at..]);

    private static long Offset(Qcow2Header checker, ReadOnlySpan<byte> bytes, int at, string field)
    {
        ulong value = U64(bytes, at);
        return value <= long.MaxValue / 2 ? (long)value : throw checker.Corrupt($"{field} 0x{value:x} is past any file");
    }

    private void CheckCompressionType(ReadOnlySpan<byte> bytes)
    {
        // A zstd image sets incompatible bit 3 (refused with the other unknown features); without it the optional
        // compression_type byte must be zlib (0).
        if (Version == 3 && HeaderLength > V3MinHeaderLength && (IncompatibleFeatures & IncompatibleCompressionType) == 0 && bytes[V3MinHeaderLength] != 0)
        {
            throw Corrupt($"compression_type is {bytes[V3MinHeaderLength]} without the compression type feature bit");
        }
    }

    private void CheckTables(long fileLength)
    {
        long l1Needed = RequiredL1Entries;
        if (L1Size < l1Needed)
        {
            throw Corrupt($"the L1 table has {L1Size} entries but a virtual size of {Size} bytes needs {l1Needed}");
        }

        if ((long)L1Size * 8 > MaxL1Bytes)
        {
            throw Corrupt($"the L1 table has {L1Size} entries, more than the {MaxL1Bytes / 8} this reader accepts");
        }

        if (L1Size > 0)
        {
            CheckRange("the L1 table", L1TableOffset, (long)L1Size * 8, fileLength);
        }

        if (RefcountTableClusters == 0)
        {
            throw Corrupt("the refcount table has no clusters");
        }

        if ((long)RefcountTableClusters * ClusterSize > MaxRefcountTableBytes && RefcountTableClusters > 1)
        {
            throw Corrupt($"the refcount table has {RefcountTableClusters} clusters, more than the {MaxRefcountTableBytes >> 20} MiB this reader accepts");
        }

        long refcountTableBytes = (long)RefcountTableClusters * ClusterSize;
        CheckRange("the refcount table", RefcountTableOffset, refcountTableBytes, fileLength);
        if (L1Size > 0 && Overlap(L1TableOffset, (long)L1Size * 8, RefcountTableOffset, refcountTableBytes))
        {
            throw Corrupt($"the L1 table (0x{L1TableOffset:x}) and the refcount table (0x{RefcountTableOffset:x}) overlap");
        }

        if (SnapshotCount > MaxSnapshots)
        {
            throw Corrupt($"the image claims {SnapshotCount} snapshots, more than the {MaxSnapshots} qcow2 allows");
        }

        if (SnapshotCount > 0)
        {
            CheckRange("the snapshot table", SnapshotsOffset, 40, fileLength);
        }
    }

    /// <summary>A table must be cluster-aligned, after the header's cluster, and inside the file.</summary>
    public void CheckRange(string what, long offset, long length, long fileLength)
    {
        if (offset % ClusterSize != 0)
        {
            throw Corrupt($"{what} at 0x{offset:x} is not aligned to a cluster ({ClusterSize} bytes)");
        }

        if (offset < ClusterSize)
        {
            throw Corrupt($"{what} at 0x{offset:x} overlaps the header");
        }

        if (offset > fileLength || length > fileLength - offset)
        {
            throw Corrupt($"{what} at 0x{offset:x} ({length} bytes) goes past the end of the file ({fileLength} bytes)");
        }
    }

    public static bool Overlap(long a, long aLength, long b, long bLength) => a < b + bLength && b < a + aLength;

    private void ReadExtensions(ReadOnlySpan<byte> bytes, ulong backingOffset, uint backingSize, long fileLength)
    {
        if (backingOffset != 0)
        {
            // QEMU keeps the name in the first cluster, after the extensions; so do we, which bounds it.
            if (backingSize is 0 or > MaxBackingNameLength)
            {
                throw Corrupt($"the backing file name is {backingSize} bytes; it must be 1 to {MaxBackingNameLength}");
            }

            if (backingOffset < (ulong)HeaderLength || backingOffset + backingSize > (ulong)Math.Min(ClusterSize, bytes.Length))
            {
                throw Corrupt($"the backing file name at 0x{backingOffset:x} ({backingSize} bytes) is not inside the first cluster after the header");
            }

            try
            {
                string name = new UTF8Encoding(false, true).GetString(bytes.Slice((int)backingOffset, (int)backingSize));
                BackingFile = name.Contains('\0', StringComparison.Ordinal) ? throw Corrupt("the backing file name contains a NUL byte") : name;
            }
            catch (DecoderFallbackException)
            {
                throw Corrupt("the backing file name is not UTF-8");
            }
        }

        int end = (int)Math.Min(backingOffset != 0 ? (long)backingOffset : ClusterSize, Math.Min(bytes.Length, fileLength));
        int at = HeaderLength;
        for (int count = 0; end - at >= 8; count++)
        {
            if (count == MaxExtensions)
            {
                throw Corrupt($"more than {MaxExtensions} header extensions");
            }

            uint type = U32(bytes, at);
            uint length = U32(bytes, at + 4);
            if (type == ExtensionEnd)
            {
                return;
            }

            if (length > end - at - 8)
            {
                throw Corrupt($"header extension 0x{type:x8} at {at} ({length} bytes) runs past the header area");
            }

            var data = bytes.Slice(at + 8, (int)length);
            switch (type)
            {
                case ExtensionBackingFormat:
                    if (BackingFormat is not null || length is 0 or > 16)
                    {
                        throw Corrupt("the backing file format extension is repeated or not 1 to 16 bytes");
                    }

                    BackingFormat = Encoding.ASCII.GetString(data);
                    break;
                case ExtensionFeatureNames:
                    for (int e = 0; e + FeatureNameEntryLength <= data.Length; e += FeatureNameEntryLength)
                    {
                        var entry = data.Slice(e, FeatureNameEntryLength);
                        var name = entry.Slice(2, 46);
                        int nul = name.IndexOf((byte)0);
                        _featureNames[(entry[0], entry[1])] = Encoding.ASCII.GetString(nul < 0 ? name : name[..nul]);
                    }

                    break;
                default:
                    break; // bitmaps (governed by the autoclear bit), encryption (refused above), unknown: ignored as the specification says
            }

            at += 8 + (int)((length + 7) & ~7u);
        }
    }
}

/// <summary>Reads and checks the header of a qcow2 image on an open handle (page cache, no O_DIRECT).</summary>
internal static class Qcow2HeaderReader
{
    public static Qcow2Header Read(Microsoft.Win32.SafeHandles.SafeFileHandle file, string path)
    {
        long length = RandomAccess.GetLength(file);
        byte[] start = new byte[(int)Math.Min(length, Qcow2Header.V3MinHeaderLength)];
        RandomAccess.Read(file, start, 0);
        int clusterBytes = start.Length >= 24 && BinaryPrimitives.ReadUInt32BigEndian(start.AsSpan(20)) is var bits &&
            bits is >= Qcow2Header.MinClusterBits and <= Qcow2Header.MaxClusterBits ? 1 << (int)bits : start.Length;
        byte[] first = new byte[(int)Math.Min(length, Math.Max(clusterBytes, start.Length))];
        RandomAccess.Read(file, first, 0);
        return Qcow2Header.Parse(first, length, path);
    }
}
