using System.Buffers.Binary;
using System.Text;

namespace Platform.Engine.Boot.Disk;

/// <summary>
/// A read-only ext2/3/4 reader for finding and loading boot files: superblock, group descriptors (32- and 64-bit,
/// meta_bg), inodes, extent trees and block maps, inline data, linear directory scans and symbolic links. It never
/// replays the journal (a file system that was not cleanly unmounted may miss the newest writes) and never checks
/// metadata checksums; instead every number it follows is range-checked, every loop is bounded and every size capped,
/// so a corrupt or hostile image ends in a <see cref="BootException"/>.
/// </summary>
internal sealed class Ext4FileSystem : IBootFileSystem
{
    public const uint RootInode = 2;
    public const int MaxSymlinkHops = 8;
    public const int MaxPathLength = 4096;
    public const long MaxDirectoryBytes = 16L << 20;

    /// <summary>All the directory data one file system may make us read: a path through many huge directories ends here.</summary>
    public const long DirectoryReadBudget = 256L << 20;

    private const int MaxResolveSteps = 1024;
    private const int InlineDirectoryParentSize = 4;

    private readonly DiskRegion _region;
    private readonly Dictionary<long, long> _inodeTables = [];
    private readonly Dictionary<uint, List<Ext4DirectoryEntry>> _directories = [];
    private long _directoryBytesRead;

    private Ext4FileSystem(DiskRegion region, Ext4Superblock superblock)
    {
        _region = region;
        Superblock = superblock;
    }

    public Ext4Superblock Superblock { get; }

    public string Kind => Superblock.Kind;

    public Guid Uuid => Superblock.Uuid;

    /// <summary>Reads and checks the superblock; throws <see cref="BootException"/> when the region holds no usable ext file system.</summary>
    public static Ext4FileSystem Open(DiskRegion region)
    {
        if (region.Length < Ext4Superblock.Offset + Ext4Superblock.Size)
        {
            throw new BootException($"the partition is {region.Length} bytes, too small for an ext2/3/4 file system");
        }

        byte[] sb = new byte[Ext4Superblock.Size];
        region.Read(Ext4Superblock.Offset, sb, "the superblock");
        return new Ext4FileSystem(region, Ext4Superblock.Parse(sb, region.Length));
    }

    /// <summary>Whether the region starts like an ext file system (the superblock's magic), without checking the rest.</summary>
    public static bool HasMagic(DiskRegion region)
    {
        if (region.Length < Ext4Superblock.Offset + Ext4Superblock.Size)
        {
            return false;
        }

        byte[] magic = new byte[2];
        region.Read(Ext4Superblock.Offset + 0x38, magic, "the superblock");
        return BinaryPrimitives.ReadUInt16LittleEndian(magic) == Ext4Superblock.Magic;
    }

    public void ReadBlock(long block, Span<byte> into, string what)
    {
        if (block < 0 || block >= Superblock.BlocksCount)
        {
            throw new BootException($"ext4: {what}: block {block} lies outside the file system ({Superblock.BlocksCount} blocks)");
        }

        _region.Read(block * Superblock.BlockSize, into, $"ext4: {what} (block {block})");
    }

    public Ext4Inode ReadInode(uint number)
    {
        if (number < 1 || number > Superblock.InodesCount)
        {
            throw new BootException($"ext4: inode {number} does not exist (the file system has {Superblock.InodesCount})");
        }

        long group = (number - 1) / Superblock.InodesPerGroup;
        long index = (number - 1) % Superblock.InodesPerGroup;
        long table = InodeTable(group);
        byte[] raw = new byte[Superblock.InodeSize];
        _region.Read((table * Superblock.BlockSize) + (index * Superblock.InodeSize), raw, $"ext4: inode {number}");
        return new Ext4Inode(number, raw, Superblock.HasLargeDir);
    }

    /// <summary>The first block of a group's inode table, from its group descriptor.</summary>
    private long InodeTable(long group)
    {
        if (_inodeTables.TryGetValue(group, out long cached))
        {
            return cached;
        }

        var sb = Superblock;
        long descriptorsPerBlock = sb.BlockSize / sb.DescriptorSize;
        long descriptorBlock = group / descriptorsPerBlock;
        long block;
        if (sb.HasMetaBg && descriptorBlock >= sb.FirstMetaBlockGroup)
        {
            // meta_bg: each run of descriptorsPerBlock groups keeps its descriptor block in its first group, after
            // that group's superblock backup if it has one.
            long firstGroup = descriptorBlock * descriptorsPerBlock;
            block = sb.FirstDataBlock + (firstGroup * sb.BlocksPerGroup) + (HasSuperblockBackup(firstGroup) ? 1 : 0);
        }
        else
        {
            block = sb.FirstDataBlock + 1 + descriptorBlock;
        }

        byte[] descriptor = new byte[sb.DescriptorSize];
        ReadBlockPart(block, (int)(group % descriptorsPerBlock) * sb.DescriptorSize, descriptor, $"group {group}'s descriptor");
        long table = BinaryPrimitives.ReadUInt32LittleEndian(descriptor.AsSpan(0x08));
        if (sb.Is64Bit)
        {
            table |= (long)BinaryPrimitives.ReadUInt32LittleEndian(descriptor.AsSpan(0x28)) << 32;
        }

        long tableBlocks = ((sb.InodesPerGroup * (long)sb.InodeSize) + sb.BlockSize - 1) / sb.BlockSize;
        if (table < sb.FirstDataBlock || table > sb.BlocksCount - tableBlocks)
        {
            throw new BootException($"ext4: group {group}'s inode table at block {table} lies outside the file system ({sb.BlocksCount} blocks)");
        }

        _inodeTables[group] = table;
        return table;
    }

    private bool HasSuperblockBackup(long group)
    {
        if (!Superblock.HasSparseSuper || group <= 1)
        {
            return true;
        }

        foreach (long factor in (ReadOnlySpan<long>)[3, 5, 7])
        {
            long power = factor;
            while (power < group)
            {
                power *= factor;
            }

            if (power == group)
            {
                return true;
            }
        }

        return false;
    }

    private void ReadBlockPart(long block, int offset, Span<byte> into, string what)
    {
        if (block < 0 || block >= Superblock.BlocksCount)
        {
            throw new BootException($"ext4: {what}: block {block} lies outside the file system ({Superblock.BlocksCount} blocks)");
        }

        _region.Read((block * Superblock.BlockSize) + offset, into, $"ext4: {what}");
    }

    /// <summary>The first <paramref name="length"/> bytes of the inode's data (the caller has checked the size).</summary>
    public byte[] ReadData(Ext4Inode inode, int length)
    {
        if (inode.IsEncrypted)
        {
            throw new BootException($"ext4: inode {inode.Number} is encrypted (fscrypt); its contents cannot be read");
        }

        byte[] data = new byte[length];
        if (length == 0)
        {
            return data;
        }

        if (inode.HasInlineData)
        {
            ReadInline(inode, data);
            return data;
        }

        int blockSize = Superblock.BlockSize;
        long blocks = ((long)length + blockSize - 1) / blockSize;
        var runs = inode.UsesExtents ? Ext4ExtentTree.Map(this, inode, blocks) : Ext4BlockMap.Map(this, inode, blocks);
        foreach (var run in runs)
        {
            if (run.Zero)
            {
                continue; // unwritten: reads as zeros, which the array already is
            }

            long start = run.Logical * blockSize;
            long end = Math.Min(length, (run.Logical + run.Count) * blockSize);
            ReadBlocks(run.Physical, data.AsSpan((int)start, (int)(end - start)), $"inode {inode.Number} data");
        }

        return data;
    }

    private void ReadBlocks(long firstBlock, Span<byte> into, string what) =>
        _region.Read(firstBlock * Superblock.BlockSize, into, $"ext4: {what} (block {firstBlock})");

    /// <summary>inline_data: the first 60 bytes live in i_block, the rest in the "system.data" extended attribute.</summary>
    private static void ReadInline(Ext4Inode inode, Span<byte> data)
    {
        int fromBlockArray = Math.Min(data.Length, Ext4Inode.BlockArraySize);
        inode.BlockArray[..fromBlockArray].CopyTo(data);
        if (data.Length == fromBlockArray)
        {
            return;
        }

        var rest = InlineDataAttribute(inode);
        if (rest.Length < data.Length - fromBlockArray)
        {
            throw new BootException(
                $"ext4: inode {inode.Number} keeps {data.Length} bytes inline but its i_block and system.data attribute hold {fromBlockArray + rest.Length}");
        }

        rest[..(data.Length - fromBlockArray)].CopyTo(data[fromBlockArray..]);
    }

    /// <summary>The value of the in-inode extended attribute "system.data" (empty when there is none).</summary>
    private static ReadOnlySpan<byte> InlineDataAttribute(Ext4Inode inode)
    {
        const uint XattrMagic = 0xEA02_0000;
        const int SystemIndex = 7;
        int start = inode.ExtraAttributesOffset;
        var raw = inode.Raw;
        if (start < 0 || BinaryPrimitives.ReadUInt32LittleEndian(raw[start..]) != XattrMagic)
        {
            return [];
        }

        int entries = start + 4;
        int offset = entries;
        // Each entry is at least 16 bytes and the walk moves forward, so it ends within the inode.
        while (offset + 16 <= raw.Length && BinaryPrimitives.ReadUInt32LittleEndian(raw[offset..]) != 0)
        {
            int nameLength = raw[offset];
            int index = raw[offset + 1];
            int valueOffset = BinaryPrimitives.ReadUInt16LittleEndian(raw[(offset + 2)..]);
            uint valueInode = BinaryPrimitives.ReadUInt32LittleEndian(raw[(offset + 4)..]);
            uint valueSize = BinaryPrimitives.ReadUInt32LittleEndian(raw[(offset + 8)..]);
            if (offset + 16 + nameLength > raw.Length)
            {
                break;
            }

            if (index == SystemIndex && nameLength == 4 && raw.Slice(offset + 16, 4).SequenceEqual("data"u8) && valueInode == 0)
            {
                long valueStart = entries + (long)valueOffset;
                if (valueStart + valueSize > raw.Length)
                {
                    throw new BootException($"ext4: inode {inode.Number}'s system.data attribute lies outside the inode");
                }

                return raw.Slice((int)valueStart, (int)valueSize);
            }

            offset += (16 + nameLength + 3) & ~3;
        }

        return [];
    }

    /// <summary>The live entries of a directory, "." and ".." included (read once, then kept).</summary>
    public List<Ext4DirectoryEntry> ReadDirectory(Ext4Inode directory)
    {
        if (_directories.TryGetValue(directory.Number, out var cached))
        {
            return cached;
        }

        if (directory.Size > MaxDirectoryBytes)
        {
            throw new BootException($"ext4: directory inode {directory.Number} is {directory.Size} bytes, more than the {MaxDirectoryBytes >> 20} MiB this reader scans");
        }

        _directoryBytesRead += (long)directory.Size;
        if (_directoryBytesRead > DirectoryReadBudget)
        {
            throw new BootException($"ext4: the directories looked at hold more than {DirectoryReadBudget >> 20} MiB; giving up");
        }

        var entries = ParseDirectory(directory);
        _directories[directory.Number] = entries;
        return entries;
    }

    private List<Ext4DirectoryEntry> ParseDirectory(Ext4Inode directory)
    {
        var entries = new List<Ext4DirectoryEntry>();
        byte[] data = ReadData(directory, (int)directory.Size);
        if (directory.HasInlineData)
        {
            // An inline directory: the parent's inode number, then entries in the rest of i_block and in system.data.
            if (data.Length < InlineDirectoryParentSize)
            {
                throw new BootException($"ext4: inline directory inode {directory.Number} is {data.Length} bytes, too short");
            }

            entries.Add(new Ext4DirectoryEntry(directory.Number, "."u8.ToArray()));
            entries.Add(new Ext4DirectoryEntry(BinaryPrimitives.ReadUInt32LittleEndian(data), ".."u8.ToArray()));
            int inBlockArray = Math.Min(data.Length, Ext4Inode.BlockArraySize);
            string where = $"inline directory inode {directory.Number}";
            Ext4Directory.ParseBlock(data.AsSpan(InlineDirectoryParentSize, inBlockArray - InlineDirectoryParentSize), Superblock.BlockSize, Superblock.HasFileType, where, entries);
            Ext4Directory.ParseBlock(data.AsSpan(inBlockArray), Superblock.BlockSize, Superblock.HasFileType, where, entries);
            return entries;
        }

        int blockSize = Superblock.BlockSize;
        if (data.Length % blockSize != 0)
        {
            throw new BootException($"ext4: directory inode {directory.Number} is {data.Length} bytes, not a whole number of {blockSize}-byte blocks");
        }

        for (int block = 0; block < data.Length / blockSize; block++)
        {
            Ext4Directory.ParseBlock(data.AsSpan(block * blockSize, blockSize), blockSize, Superblock.HasFileType,
                $"directory inode {directory.Number}, block {block}", entries);
        }

        return entries;
    }

    /// <summary>
    /// Follows <paramref name="path"/> from the root, symbolic links included (at most <see cref="MaxSymlinkHops"/>, as
    /// a loop would otherwise never end). Returns the inode and the path it was reached by with links resolved, or
    /// null when a component is missing or a non-directory stands in the way.
    /// </summary>
    public (Ext4Inode Inode, string Path)? Resolve(string path, bool followLast = true)
    {
        if (path.Length > MaxPathLength)
        {
            throw new BootException($"ext4: the path {path[..64]}… is longer than {MaxPathLength} bytes");
        }

        var pending = new Stack<string>();
        PushComponents(pending, path);
        var current = ReadInode(RootInode);
        var canonical = new List<string>();
        int hops = 0;
        int steps = 0;
        while (pending.Count > 0)
        {
            if (++steps > MaxResolveSteps)
            {
                throw new BootException($"ext4: resolving {path} takes more than {MaxResolveSteps} steps");
            }

            string component = pending.Pop();
            if (component is "" or ".")
            {
                continue;
            }

            if (!current.IsDirectory)
            {
                return null;
            }

            uint childNumber = Find(current, component);
            if (childNumber == 0)
            {
                return null;
            }

            var child = ReadInode(childNumber);
            if (!child.InUse)
            {
                throw new BootException($"ext4: directory inode {current.Number} names inode {childNumber} ({component}), which is not in use");
            }

            if (child.IsSymlink && (pending.Count > 0 || followLast))
            {
                if (++hops > MaxSymlinkHops)
                {
                    throw new BootException($"ext4: too many symbolic links resolving {path} (more than {MaxSymlinkHops}; a loop?)");
                }

                string target = ReadSymlink(child);
                PushComponents(pending, target);
                if (target.StartsWith('/'))
                {
                    current = ReadInode(RootInode);
                    canonical.Clear();
                }

                continue;
            }

            if (component == "..")
            {
                if (canonical.Count > 0)
                {
                    canonical.RemoveAt(canonical.Count - 1);
                }
            }
            else
            {
                canonical.Add(component);
            }

            current = child;
        }

        return (current, "/" + string.Join('/', canonical));
    }

    private static void PushComponents(Stack<string> pending, string path)
    {
        string[] parts = path.Split('/');
        for (int i = parts.Length - 1; i >= 0; i--)
        {
            pending.Push(parts[i]);
        }
    }

    private uint Find(Ext4Inode directory, string name)
    {
        byte[] wanted = Encoding.UTF8.GetBytes(name);
        foreach (var entry in ReadDirectory(directory))
        {
            if (entry.Name.AsSpan().SequenceEqual(wanted))
            {
                return entry.Inode;
            }
        }

        return 0;
    }

    public string ReadSymlink(Ext4Inode link)
    {
        if (link.Size == 0 || link.Size >= MaxPathLength)
        {
            throw new BootException($"ext4: symbolic link inode {link.Number} has a {link.Size}-byte target (1 to {MaxPathLength - 1} bytes are possible)");
        }

        int length = (int)link.Size;
        // A fast symlink keeps its target in i_block (Linux makes every target under 60 bytes one); a longer one is file data.
        byte[] target = length < Ext4Inode.BlockArraySize && !link.HasInlineData
            ? link.BlockArray[..length].ToArray()
            : ReadData(link, length);
        if (target.AsSpan().IndexOf((byte)0) >= 0)
        {
            throw new BootException($"ext4: symbolic link inode {link.Number}'s target holds a NUL byte");
        }

        return Encoding.UTF8.GetString(target);
    }

    public string? ResolveFile(string path) => Resolve(path) is { Inode.IsRegularFile: true } found ? found.Path : null;

    public byte[]? ReadFile(string path, long maxBytes, string limit)
    {
        if (Resolve(path) is not { Inode: { IsRegularFile: true } inode })
        {
            return null;
        }

        long cap = Math.Min(maxBytes, Array.MaxLength);
        if (inode.Size > (ulong)cap)
        {
            throw new BootException($"ext4: {path} is {SizeText.Of(inode.Size)}, more than {limit} ({SizeText.Of((ulong)cap)})");
        }

        return ReadData(inode, (int)inode.Size);
    }

    public IReadOnlyList<string>? ListDirectory(string path)
    {
        if (Resolve(path) is not { Inode: { IsDirectory: true } directory })
        {
            return null;
        }

        return
        [
            .. ReadDirectory(directory)
                .Select(e => Encoding.UTF8.GetString(e.Name))
                .Where(n => n is not ("." or "..")),
        ];
    }
}

/// <summary>Byte counts in words: "512 bytes", "7.9 MiB", "4.0 GiB".</summary>
internal static class SizeText
{
    public static string Of(ulong bytes) => bytes switch
    {
        < 1024 => $"{bytes} bytes",
        < 1 << 20 => $"{bytes / 1024.0:0.#} KiB",
        < 1 << 30 => $"{bytes / (1024.0 * 1024):0.#} MiB",
        _ => $"{bytes / (1024.0 * 1024 * 1024):0.#} GiB",
    };
}
