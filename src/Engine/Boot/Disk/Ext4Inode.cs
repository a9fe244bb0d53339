using System.Buffers.Binary;

namespace Platform.Engine.Boot.Disk;

/// <summary>The fields of an on-disk inode this reader uses; the raw bytes stay for the in-inode extended attributes.</summary>
internal sealed class Ext4Inode
{
    public const int BlockArrayOffset = 0x28;
    public const int BlockArraySize = 60;

    private const ushort TypeMask = 0xF000;
    private const ushort TypeDirectory = 0x4000;
    private const ushort TypeRegular = 0x8000;
    private const ushort TypeSymlink = 0xA000;

    private const uint FlagEncrypted = 0x800;
    private const uint FlagExtents = 0x80000;
    private const uint FlagInlineData = 0x1000_0000;

    private readonly byte[] _raw;

    /// <param name="raw">The inode's bytes (the superblock's inode size).</param>
    /// <param name="largeFileSizes">Whether a directory's size has high bits (largedir); a file's always has.</param>
    public Ext4Inode(uint number, byte[] raw, bool largeFileSizes)
    {
        Number = number;
        _raw = raw;
        Mode = BinaryPrimitives.ReadUInt16LittleEndian(raw);
        Flags = BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(0x20));
        ulong size = BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(0x04));
        if (!IsDirectory || largeFileSizes)
        {
            size |= (ulong)BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(0x6C)) << 32;
        }

        Size = size;
    }

    public uint Number { get; }

    public ushort Mode { get; }

    public uint Flags { get; }

    /// <summary>The file's length in bytes, as the inode says (up to 2^64 − 1 on a hostile image: check before use).</summary>
    public ulong Size { get; }

    public bool InUse => Mode != 0;

    public bool IsDirectory => (Mode & TypeMask) == TypeDirectory;

    public bool IsRegularFile => (Mode & TypeMask) == TypeRegular;

    public bool IsSymlink => (Mode & TypeMask) == TypeSymlink;

    public bool UsesExtents => (Flags & FlagExtents) != 0;

    public bool HasInlineData => (Flags & FlagInlineData) != 0;

    public bool IsEncrypted => (Flags & FlagEncrypted) != 0;

    /// <summary>i_block: the extent tree's root, the block map's 15 pointers, a fast symlink's target or inline data.</summary>
    public ReadOnlySpan<byte> BlockArray => _raw.AsSpan(BlockArrayOffset, BlockArraySize);

    /// <summary>
    /// Where the in-inode extended attributes begin (after i_extra_isize), or −1 when the inode has no room for them
    /// or the field is out of range.
    /// </summary>
    public int ExtraAttributesOffset
    {
        get
        {
            if (_raw.Length <= 128 + 2)
            {
                return -1;
            }

            int extra = BinaryPrimitives.ReadUInt16LittleEndian(_raw.AsSpan(0x80));
            int offset = 128 + extra;
            return extra % 4 == 0 && offset + 4 <= _raw.Length ? offset : -1;
        }
    }

    public ReadOnlySpan<byte> Raw => _raw;

    public string TypeName => (Mode & TypeMask) switch
    {
        TypeDirectory => "a directory",
        TypeRegular => "a regular file",
        TypeSymlink => "a symbolic link",
        0 => "unused",
        _ => "a special file",
    };
}
