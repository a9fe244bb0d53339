using System.Buffers.Binary;

namespace Platform.Engine.Boot;

/// <summary>
/// Xen's <c>hvm_start_info</c> (xen/include/public/arch-x86/hvm/start_info.h, version 1) with its module list and
/// memory map, as a PVH kernel reads them from the address in EBX.
/// </summary>
public static class PvhStartInfo
{
    public const uint Magic = 0x336EC578;
    public const int Size = 56;
    public const int ModuleEntrySize = 32;
    public const int MemoryMapEntrySize = 24;

    /// <param name="rsdp">The ACPI RSDP's address; 0 when the machine has no ACPI tables (guests then use the MP table).</param>
    public static byte[] Build(ulong commandLine, ulong moduleList, uint moduleCount, ulong memoryMap, int memoryMapEntries, ulong rsdp = 0)
    {
        byte[] info = new byte[Size];
        var s = info.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(s, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(s[4..], 1); // version 1: has the memory map fields
        BinaryPrimitives.WriteUInt32LittleEndian(s[8..], 0); // flags
        BinaryPrimitives.WriteUInt32LittleEndian(s[12..], moduleCount);
        BinaryPrimitives.WriteUInt64LittleEndian(s[16..], moduleCount > 0 ? moduleList : 0);
        BinaryPrimitives.WriteUInt64LittleEndian(s[24..], commandLine);
        BinaryPrimitives.WriteUInt64LittleEndian(s[32..], rsdp);
        BinaryPrimitives.WriteUInt64LittleEndian(s[40..], memoryMap);
        BinaryPrimitives.WriteUInt32LittleEndian(s[48..], (uint)memoryMapEntries);
        return info;
    }

    public static byte[] BuildModule(ulong address, ulong size)
    {
        byte[] entry = new byte[ModuleEntrySize];
        BinaryPrimitives.WriteUInt64LittleEndian(entry, address);
        BinaryPrimitives.WriteUInt64LittleEndian(entry.AsSpan(8), size);
        return entry;
    }

    public static byte[] BuildMemoryMap(IReadOnlyList<E820Entry> entries)
    {
        byte[] map = new byte[entries.Count * MemoryMapEntrySize];
        for (int i = 0; i < entries.Count; i++)
        {
            // hvm_memmap_table_entry is the E820 layout plus 4 reserved bytes (left zero).
            entries[i].WriteTo(map.AsSpan(i * MemoryMapEntrySize, E820Entry.PackedSize));
        }

        return map;
    }
}
