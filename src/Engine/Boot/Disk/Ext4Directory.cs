using System.Buffers.Binary;

namespace Platform.Engine.Boot.Disk;

/// <summary>One live entry of a directory: the inode it names and the name's bytes (file names are bytes, not text).</summary>
internal readonly record struct Ext4DirectoryEntry(uint Inode, byte[] Name);

/// <summary>
/// Reads directory blocks as a linear list of entries (inode, record length, name length, file type, name). Hashed
/// (htree) directories read the same way: their index hides inside entries with inode 0 or inside the "..'s" record,
/// and the metadata_csum tail is an entry with inode 0 too. Each record's length is checked: at least 8 bytes, a
/// multiple of 4, holding its name, and inside its block; the walk always moves forward, so it ends.
/// </summary>
internal static class Ext4Directory
{
    private const int HeaderSize = 8;

    /// <summary>Adds the live entries of one directory block (or of an inline directory's area) to <paramref name="into"/>.</summary>
    /// <param name="blockSize">The file system's block size: a 64 KiB block writes a full-block record length as 0 or 65535.</param>
    /// <param name="where">Names the block in messages: "directory inode 2, block 0".</param>
    public static void ParseBlock(ReadOnlySpan<byte> block, int blockSize, bool hasFileType, string where, List<Ext4DirectoryEntry> into)
    {
        int offset = 0;
        while (offset < block.Length)
        {
            if (block.Length - offset < HeaderSize)
            {
                throw new BootException($"ext4: {where}: {block.Length - offset} bytes left at offset {offset}, too few for an entry");
            }

            var entry = block[offset..];
            uint inode = BinaryPrimitives.ReadUInt32LittleEndian(entry);
            int recordLength = BinaryPrimitives.ReadUInt16LittleEndian(entry[4..]);
            if (blockSize == 65536 && (recordLength == 0 || recordLength == 65535) && offset == 0)
            {
                recordLength = 65536;
            }

            int nameLength = hasFileType ? entry[6] : BinaryPrimitives.ReadUInt16LittleEndian(entry[6..]);
            if (recordLength < HeaderSize || recordLength % 4 != 0 || recordLength > block.Length - offset)
            {
                throw new BootException(
                    $"ext4: {where}: the entry at offset {offset} has record length {recordLength} (it must be 8 or more, a multiple of 4, and end inside the block)");
            }

            if (nameLength > recordLength - HeaderSize || nameLength > 255)
            {
                throw new BootException($"ext4: {where}: the entry at offset {offset} has a {nameLength}-byte name in a {recordLength}-byte record");
            }

            if (inode != 0 && nameLength > 0)
            {
                into.Add(new Ext4DirectoryEntry(inode, entry.Slice(HeaderSize, nameLength).ToArray()));
            }

            offset += recordLength;
        }
    }
}
