using System.Buffers.Binary;
using System.Text;

namespace Platform.Devices.Firmware;

/// <summary>
/// The script of QEMU's linker/loader protocol (fw_cfg file <c>etc/table-loader</c>), as SeaBIOS's
/// <c>romfile_loader_execute</c> runs it: allocate a fw_cfg file in guest memory, add one allocated file's address to a
/// pointer inside another, and fix a checksum byte once the pointers are in. This is how tables built by the VMM (ACPI)
/// land wherever the firmware's allocator puts them, with their pointers and checksums right for that place.
/// </summary>
/// <remarks>
/// Each command is 128 bytes, little-endian: a u32 command number, then its fields, names NUL-padded to 56 bytes.
/// SeaBIOS skips commands it does not know and ignores one that names an unallocated file, so the order matters:
/// every file is allocated before a command names it, and a table's checksum comes after every pointer into it.
/// </remarks>
public sealed class TableLoaderCommands
{
    public const int CommandSize = 128;
    public const int FileNameSize = 56;

    public const uint Allocate = 1, AddPointer = 2, AddChecksum = 3;

    private readonly List<byte[]> _commands = [];
    private readonly HashSet<string> _allocated = new(StringComparer.Ordinal);

    /// <summary>Where SeaBIOS may place a file: high memory (below 4 GiB, top of RAM) or the 0xF0000 segment.</summary>
    public enum Zone : byte
    {
        High = 1,
        FSegment = 2,
    }

    public int Count => _commands.Count;

    /// <summary>Places <paramref name="file"/> in <paramref name="zone"/> at a multiple of <paramref name="alignment"/> (a power of two).</summary>
    public TableLoaderCommands AllocateFile(string file, uint alignment, Zone zone)
    {
        if (alignment == 0 || (alignment & (alignment - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(alignment), $"An alignment of {alignment} is not a power of two.");
        }

        if (!_allocated.Add(file))
        {
            throw new ArgumentException($"{file} is allocated twice.", nameof(file));
        }

        byte[] command = NewCommand(Allocate);
        WriteName(command.AsSpan(4), file);
        BinaryPrimitives.WriteUInt32LittleEndian(command.AsSpan(4 + FileNameSize), alignment);
        command[4 + FileNameSize + 4] = (byte)zone;
        _commands.Add(command);
        return this;
    }

    /// <summary>
    /// Adds the address of <paramref name="sourceFile"/> to the <paramref name="size"/>-byte value at
    /// <paramref name="offset"/> in <paramref name="destinationFile"/> (which holds the offset into the source it points at).
    /// </summary>
    public TableLoaderCommands AddPointerTo(string destinationFile, uint offset, string sourceFile, byte size)
    {
        if (size is not (1 or 2 or 4 or 8))
        {
            throw new ArgumentOutOfRangeException(nameof(size), $"A pointer of {size} bytes is not 1, 2, 4 or 8.");
        }

        RequireAllocated(destinationFile);
        RequireAllocated(sourceFile);
        byte[] command = NewCommand(AddPointer);
        WriteName(command.AsSpan(4), destinationFile);
        WriteName(command.AsSpan(4 + FileNameSize), sourceFile);
        BinaryPrimitives.WriteUInt32LittleEndian(command.AsSpan(4 + (2 * FileNameSize)), offset);
        command[4 + (2 * FileNameSize) + 4] = size;
        _commands.Add(command);
        return this;
    }

    /// <summary>Makes the bytes [<paramref name="start"/>, start + <paramref name="length"/>) of <paramref name="file"/> sum to 0 by changing the byte at <paramref name="offset"/>.</summary>
    public TableLoaderCommands AddChecksumOf(string file, uint offset, uint start, uint length)
    {
        RequireAllocated(file);
        byte[] command = NewCommand(AddChecksum);
        WriteName(command.AsSpan(4), file);
        BinaryPrimitives.WriteUInt32LittleEndian(command.AsSpan(4 + FileNameSize), offset);
        BinaryPrimitives.WriteUInt32LittleEndian(command.AsSpan(4 + FileNameSize + 4), start);
        BinaryPrimitives.WriteUInt32LittleEndian(command.AsSpan(4 + FileNameSize + 8), length);
        _commands.Add(command);
        return this;
    }

    /// <summary>The script as the fw_cfg file's bytes.</summary>
    public byte[] ToArray() => [.. _commands.SelectMany(c => c)];

    private void RequireAllocated(string file)
    {
        if (!_allocated.Contains(file))
        {
            throw new InvalidOperationException($"{file} is named before it is allocated; the firmware would skip the command.");
        }
    }

    private static byte[] NewCommand(uint number)
    {
        byte[] command = new byte[CommandSize];
        BinaryPrimitives.WriteUInt32LittleEndian(command, number);
        return command;
    }

    private static void WriteName(Span<byte> field, string name)
    {
        if (name.Length is 0 or >= FileNameSize || name.Any(c => c is <= ' ' or > '~'))
        {
            throw new ArgumentException($"\"{name}\" is not a fw_cfg file name the loader can carry (1 to {FileNameSize - 1} printable ASCII characters).", nameof(name));
        }

        Encoding.ASCII.GetBytes(name, field);
    }
}
