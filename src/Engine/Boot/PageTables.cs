using System.Buffers.Binary;
using Platform.Engine.Machine;
using Platform.Engine.Memory;

namespace Platform.Engine.Boot;

/// <summary>Identity page tables for the 64-bit entry: the first GiB with 2 MiB pages (as Firecracker builds them).</summary>
public static class PageTables
{
    private const ulong Present = 1, Writable = 2, PageSize2M = 0x80;

    public static void WriteIdentityMap(GuestMemory memory)
    {
        var pml4 = memory.GetSpan(MemoryLayout.Pml4, 4096);
        var pdpt = memory.GetSpan(MemoryLayout.Pdpt, 4096);
        var pd = memory.GetSpan(MemoryLayout.PageDirectory, 4096);
        pml4.Clear();
        pdpt.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(pml4, MemoryLayout.Pdpt | Present | Writable);
        BinaryPrimitives.WriteUInt64LittleEndian(pdpt, MemoryLayout.PageDirectory | Present | Writable);
        for (int i = 0; i < 512; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(pd[(i * 8)..], ((ulong)i << 21) | Present | Writable | PageSize2M);
        }
    }
}
