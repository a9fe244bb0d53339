using System.Buffers.Binary;
using System.Text;

namespace Platform.Devices.Firmware;

/// <summary>
/// What a <see cref="FwCfgDevice"/> serves: numbered items and named files, fixed before the machine starts. Files get
/// their numbers from <see cref="FwCfgKeys.FirstFile"/> in name order, and the directory lists them so, as QEMU's does.
/// </summary>
public sealed class FwCfgContents
{
    /// <summary>A file's name has room for 55 bytes and a NUL in its directory entry.</summary>
    public const int MaxFileNameLength = 55;

    private const int DirectoryEntrySize = 64;

    private readonly Dictionary<ushort, byte[]> _items = [];
    private readonly SortedDictionary<string, byte[]> _files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<byte[]>> _generators = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> FileNames => _files.Keys;

    /// <summary>Adds (or replaces) item <paramref name="key"/>; the signature, ID and directory are the device's own.</summary>
    public FwCfgContents AddItem(ushort key, ReadOnlySpan<byte> data)
    {
        if (key is FwCfgKeys.Signature or FwCfgKeys.Id or FwCfgKeys.FileDirectory || (key & ~FwCfgKeys.ArchLocal) >= FwCfgKeys.FirstFile
            || (key & FwCfgKeys.WriteChannel) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(key), $"fw_cfg item 0x{key:x4} is not one a machine sets.");
        }

        _items[key] = data.ToArray();
        return this;
    }

    public FwCfgContents AddItem(ushort key, ushort value)
    {
        Span<byte> bytes = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, value);
        return AddItem(key, bytes);
    }

    public FwCfgContents AddItem(ushort key, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return AddItem(key, bytes);
    }

    public FwCfgContents AddItem(ushort key, ulong value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return AddItem(key, bytes);
    }

    /// <summary>Adds file <paramref name="name"/> (printable ASCII, at most 55 bytes, each name once).</summary>
    public FwCfgContents AddFile(string name, ReadOnlySpan<byte> data)
    {
        if (name.Length is 0 or > MaxFileNameLength || name.Any(c => c is <= ' ' or > '~'))
        {
            throw new ArgumentException($"\"{name}\" is not a fw_cfg file name (1 to {MaxFileNameLength} printable ASCII characters).", nameof(name));
        }

        if (!_files.TryAdd(name, data.ToArray()))
        {
            throw new ArgumentException($"fw_cfg already has a file named {name}.", nameof(name));
        }

        return this;
    }

    /// <summary>
    /// Adds file <paramref name="name"/> of <paramref name="length"/> bytes whose contents <paramref name="generate"/> makes
    /// when the firmware first selects it, as QEMU builds its ACPI tables then: by that time the firmware has programmed
    /// the chipset (the PM I/O base, say) that the contents describe. The directory gives the length from the start, so
    /// the contents must keep it.
    /// </summary>
    public FwCfgContents AddGeneratedFile(string name, int length, Func<byte[]> generate)
    {
        ArgumentNullException.ThrowIfNull(generate);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        AddFile(name, new byte[length]);
        _generators[name] = generate;
        return this;
    }

    /// <summary>Every item by number: the machine's, the signature, the ID (<paramref name="dma"/>: with the DMA bit), the directory and the files.</summary>
    /// <param name="generators">Filled with the generated files' makers, by number.</param>
    internal Dictionary<ushort, byte[]> Build(bool dma, Dictionary<ushort, Func<byte[]>> generators)
    {
        byte[] id = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(id, FwCfgKeys.IdTraditional | (dma ? FwCfgKeys.IdDma : 0));
        var items = new Dictionary<ushort, byte[]>(_items)
        {
            [FwCfgKeys.Signature] = "QEMU"u8.ToArray(),
            [FwCfgKeys.Id] = id,
        };

        byte[] directory = new byte[4 + (DirectoryEntrySize * _files.Count)];
        BinaryPrimitives.WriteUInt32BigEndian(directory, (uint)_files.Count);
        ushort key = FwCfgKeys.FirstFile;
        int at = 4;
        foreach (var (name, data) in _files)
        {
            var entry = directory.AsSpan(at, DirectoryEntrySize);
            BinaryPrimitives.WriteUInt32BigEndian(entry, (uint)data.Length);
            BinaryPrimitives.WriteUInt16BigEndian(entry[4..], key);
            Encoding.ASCII.GetBytes(name, entry[8..]);
            if (_generators.TryGetValue(name, out var generate))
            {
                generators[key] = generate;
            }

            items[key++] = data;
            at += DirectoryEntrySize;
        }

        items[FwCfgKeys.FileDirectory] = directory;
        return items;
    }
}
