using System.Buffers.Binary;
using Platform.Engine.Machine;
using Platform.Engine.Memory;

namespace Platform.Engine.Boot;

/// <summary>
/// The GDT a kernel finds loaded at entry. Linux's boot protocol wants <c>__BOOT_CS</c> = 0x10 and
/// <c>__BOOT_DS</c> = 0x18; PVH wants flat 32-bit segments. Both layouts live in one table.
/// </summary>
public static class BootGdt
{
    public const ushort Code32Selector = 0x08;
    public const ushort Code64Selector = 0x10;
    public const ushort DataSelector = 0x18;
    public const ushort TssSelector = 0x20;

    /// <summary>Descriptors in the CPU's packed format: base 0, limit 4 GiB (G=1).</summary>
    public static readonly ulong[] Entries =
    [
        0,
        0x00CF_9B00_0000_FFFF, // 0x08: 32-bit code, execute/read, accessed
        0x00AF_9B00_0000_FFFF, // 0x10: 64-bit code (L=1)
        0x00CF_9300_0000_FFFF, // 0x18: data, read/write, accessed
        0x0080_8B00_0000_0067, // 0x20: 32/64-bit busy TSS, limit 0x67 — a valid TR is required at VM entry
    ];

    public static void Write(GuestMemory memory)
    {
        var gdt = memory.GetSpan(MemoryLayout.BootGdt, Entries.Length * 8);
        for (int i = 0; i < Entries.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(gdt[(i * 8)..], Entries[i]);
        }

        memory.GetSpan(MemoryLayout.BootIdt, 8).Clear();
    }
}
