using System.Buffers.Binary;
using System.Text;
using Platform.Devices.Firmware;

namespace Platform.Engine.Machine.Firmware.Acpi;

/// <summary>
/// Runs the linker/loader script (<see cref="TableLoaderCommands"/>) the way SeaBIOS's <c>romfile_loader_execute</c>
/// does, but with each file at an address the caller chose: how a direct boot, with no firmware to run the script, gets
/// the very tables a BIOS boot gets, pointers and checksums right for where they lie.
/// </summary>
internal static class AcpiLinker
{
    /// <summary>The files of <paramref name="files"/> linked for <paramref name="addresses"/> (file name → guest address).</summary>
    /// <exception cref="InvalidOperationException">The script names a file without an address, an address breaks a file's
    /// alignment, or a command reaches outside its file: our own tables are wrong, never the guest's doing.</exception>
    public static IReadOnlyDictionary<string, byte[]> Link(AcpiFiles files, IReadOnlyDictionary<string, ulong> addresses)
    {
        var contents = new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            [AcpiFiles.TablesFile] = (byte[])files.Tables.Clone(),
            [AcpiFiles.RsdpFile] = (byte[])files.Rsdp.Clone(),
        };
        var linked = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var script = files.Loader.AsSpan();
        for (int at = 0; at + TableLoaderCommands.CommandSize <= script.Length; at += TableLoaderCommands.CommandSize)
        {
            var command = script.Slice(at, TableLoaderCommands.CommandSize);
            switch (BinaryPrimitives.ReadUInt32LittleEndian(command))
            {
                case TableLoaderCommands.Allocate:
                    string file = Name(command[4..]);
                    uint alignment = BinaryPrimitives.ReadUInt32LittleEndian(command[(4 + TableLoaderCommands.FileNameSize)..]);
                    if (!addresses.TryGetValue(file, out ulong address) || !contents.TryGetValue(file, out byte[]? bytes))
                    {
                        throw new InvalidOperationException($"The ACPI loader script allocates {file}, which has no place for a direct boot.");
                    }

                    if (address % alignment != 0)
                    {
                        throw new InvalidOperationException($"{file} at 0x{address:x} breaks its {alignment}-byte alignment.");
                    }

                    linked[file] = bytes;
                    break;
                case TableLoaderCommands.AddPointer:
                    byte[] destination = Allocated(linked, Name(command[4..]));
                    string source = Name(command[(4 + TableLoaderCommands.FileNameSize)..]);
                    Allocated(linked, source);
                    int offset = (int)BinaryPrimitives.ReadUInt32LittleEndian(command[(4 + (2 * TableLoaderCommands.FileNameSize))..]);
                    int size = command[4 + (2 * TableLoaderCommands.FileNameSize) + 4];
                    AddPointer(destination.AsSpan(Within(destination, offset, size), size), addresses[source]);
                    break;
                case TableLoaderCommands.AddChecksum:
                    byte[] target = Allocated(linked, Name(command[4..]));
                    int checksumAt = (int)BinaryPrimitives.ReadUInt32LittleEndian(command[(4 + TableLoaderCommands.FileNameSize)..]);
                    int start = (int)BinaryPrimitives.ReadUInt32LittleEndian(command[(4 + TableLoaderCommands.FileNameSize + 4)..]);
                    int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(command[(4 + TableLoaderCommands.FileNameSize + 8)..]);
                    Within(target, checksumAt, 1);
                    target[checksumAt] = 0;
                    byte sum = 0;
                    foreach (byte b in target.AsSpan(Within(target, start, length), length))
                    {
                        sum += b;
                    }

                    target[checksumAt] = (byte)-sum;
                    break;
            }
        }

        return linked;
    }

    private static void AddPointer(Span<byte> field, ulong address)
    {
        switch (field.Length)
        {
            case 1:
                field[0] += (byte)address;
                break;
            case 2:
                BinaryPrimitives.WriteUInt16LittleEndian(field, (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(field) + address));
                break;
            case 4:
                BinaryPrimitives.WriteUInt32LittleEndian(field, (uint)(BinaryPrimitives.ReadUInt32LittleEndian(field) + address));
                break;
            default:
                BinaryPrimitives.WriteUInt64LittleEndian(field, BinaryPrimitives.ReadUInt64LittleEndian(field) + address);
                break;
        }
    }

    private static byte[] Allocated(Dictionary<string, byte[]> linked, string file) =>
        linked.TryGetValue(file, out byte[]? bytes)
            ? bytes
            : throw new InvalidOperationException($"The ACPI loader script names {file} before allocating it.");

    private static int Within(byte[] file, int offset, int length) =>
        offset >= 0 && length >= 0 && offset <= file.Length - length
            ? offset
            : throw new InvalidOperationException($"An ACPI loader command reaches {offset}+{length}, outside a {file.Length}-byte file.");

    private static string Name(ReadOnlySpan<byte> field)
    {
        var name = field[..TableLoaderCommands.FileNameSize];
        int end = name.IndexOf((byte)0);
        return Encoding.ASCII.GetString(end < 0 ? name : name[..end]);
    }
}
