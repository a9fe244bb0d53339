using System.Buffers.Binary;

namespace Platform.Engine.Boot;

/// <summary>
/// Builds <c>struct boot_params</c> (the "zero page") at byte offsets from arch/x86/include/uapi/asm/bootparam.h.
/// Kept as offsets rather than a 4 KiB struct so each field we write is named once and easy to check.
/// </summary>
public sealed class ZeroPage
{
    public const int Size = 4096;
    private const int ExtRamdiskImage = 0x0C0;
    private const int ExtRamdiskSize = 0x0C4;
    private const int ExtCmdLinePtr = 0x0C8;
    private const int E820EntriesCount = 0x1E8;
    private const int TypeOfLoader = 0x210;
    private const int LoadFlagsOffset = 0x211;
    private const int RamdiskImage = 0x218;
    private const int RamdiskSize = 0x21C;
    private const int HeapEndPtr = 0x224;
    private const int CmdLinePtr = 0x228;
    private const int E820Table = 0x2D0;
    private const int E820MaxEntries = 128;
    private const byte CanUseHeap = 0x80;
    /// <summary>"Undefined" boot loader id: we are not in the kernel's list of known loaders.</summary>
    private const byte LoaderIdUndefined = 0xFF;

    public byte[] Bytes { get; } = new byte[Size];

    public ZeroPage(BzImage kernel) => kernel.SetupHeader.CopyTo(Bytes, BzImage.SetupHeaderOffset);

    public void SetLoader()
    {
        Bytes[TypeOfLoader] = LoaderIdUndefined;
        Bytes[LoadFlagsOffset] |= CanUseHeap;
        // The heap end is relative to the real-mode code, which a 64-bit entry never runs; the value QEMU uses.
        BinaryPrimitives.WriteUInt16LittleEndian(Bytes.AsSpan(HeapEndPtr), 0xFE00);
    }

    public void SetCommandLine(ulong address)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(CmdLinePtr), (uint)address);
        BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(ExtCmdLinePtr), (uint)(address >> 32));
    }

    public void SetRamdisk(ulong address, ulong size)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(RamdiskImage), (uint)address);
        BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(RamdiskSize), (uint)size);
        BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(ExtRamdiskImage), (uint)(address >> 32));
        BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(ExtRamdiskSize), (uint)(size >> 32));
    }

    public void SetE820(IReadOnlyList<E820Entry> entries)
    {
        if (entries.Count > E820MaxEntries)
        {
            throw new BootException($"{entries.Count} memory map entries do not fit the zero page's {E820MaxEntries}.");
        }

        Bytes[E820EntriesCount] = (byte)entries.Count;
        for (int i = 0; i < entries.Count; i++)
        {
            entries[i].WriteTo(Bytes.AsSpan(E820Table + i * E820Entry.PackedSize, E820Entry.PackedSize));
        }
    }
}
