using System.Buffers.Binary;
using Platform.Engine.Machine;

namespace Platform.Engine.Boot;

/// <summary>E820 memory types as the BIOS reports them (and PVH's memory map reuses).</summary>
public enum E820Type : uint
{
    Ram = 1,
    Reserved = 2,
}

public readonly record struct E820Entry(ulong Address, ulong Size, E820Type Type)
{
    /// <summary>The packed BIOS layout (u64 address, u64 size, u32 type) the zero page and PVH map both use.</summary>
    public const int PackedSize = 20;

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, Address);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], Size);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], (uint)Type);
    }
}

/// <summary>The guest's memory map: RAM with the legacy hole at 640 KiB–1 MiB carved out, as PC firmware reports.</summary>
public static class E820
{
    public static IReadOnlyList<E820Entry> Build(ulong memoryBytes)
    {
        var entries = new List<E820Entry>
        {
            new(0, MemoryLayout.BaseMemoryEnd, E820Type.Ram),
            new(MemoryLayout.BaseMemoryEnd, MemoryLayout.HighMemoryStart - MemoryLayout.BaseMemoryEnd, E820Type.Reserved),
        };
        foreach (var (start, size) in MemoryLayout.RamRegions(memoryBytes))
        {
            ulong from = Math.Max(start, MemoryLayout.HighMemoryStart);
            ulong end = start + size;
            if (end > from)
            {
                entries.Add(new E820Entry(from, end - from, E820Type.Ram));
            }
        }

        return entries;
    }
}
