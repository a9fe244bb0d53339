using System.Buffers.Binary;

namespace Platform.Engine.Boot;

/// <summary>
/// Builds <c>struct boot_params</c> (the "zero page") at byte offsets from arch/x86/include/uapi/asm/bootparam.h.
/// Kept as offsets rather than a 4 KiB struct so each field we write is named once and easy to check.
/// </summary>
public sealed class ZeroPage
{
    public const int Size = 4096;
    // struct screen_info at the start of the zero page (include/uapi/linux/screen_info.h).
    private const int OrigVideoIsVga = 0x0F;
    private const int LfbWidth = 0x12;
    private const int LfbHeight = 0x14;
    private const int LfbDepth = 0x16;
    private const int LfbBase = 0x18;
    private const int LfbSize = 0x1C;
    private const int LfbLineLength = 0x24;
    private const int RedSize = 0x26;
    private const int Capabilities = 0x36;
    private const int ExtLfbBase = 0x3A;
    /// <summary>VIDEO_TYPE_VLFB: "VESA VGA in graphic mode", a linear framebuffer.</summary>
    public const byte VideoTypeVlfb = 0x23;
    /// <summary>VIDEO_CAPABILITY_64BIT_BASE: ext_lfb_base holds the upper half of the address.</summary>
    private const uint Capability64BitBase = 1 << 1;
    private const int AcpiRsdpAddr = 0x070;
    /// <summary>Boot protocol 2.14 added <c>acpi_rsdp_addr</c>; older kernels do not read it.</summary>
    public const ushort AcpiRsdpProtocol = 0x020E;
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

    /// <summary>Where the ACPI RSDP is (<c>acpi_rsdp_addr</c>), so the kernel takes it rather than scanning for one.</summary>
    public void SetAcpiRsdp(ulong address) => BinaryPrimitives.WriteUInt64LittleEndian(Bytes.AsSpan(AcpiRsdpAddr), address);

    public void SetRamdisk(ulong address, ulong size)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(RamdiskImage), (uint)address);
        BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(RamdiskSize), (uint)size);
        BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(ExtRamdiskImage), (uint)(address >> 32));
        BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(ExtRamdiskSize), (uint)(size >> 32));
    }

    /// <summary>
    /// Describes the framebuffer as a VESA linear framebuffer (<c>VIDEO_TYPE_VLFB</c>). For this type Linux reads
    /// <c>lfb_size</c> in 64 KiB units (vesafb and sysfb multiply by 65536), unlike EFI framebuffers.
    /// </summary>
    public void SetScreenInfo(ScreenInfo screen)
    {
        ArgumentNullException.ThrowIfNull(screen);
        Span<byte> b = Bytes;
        b[OrigVideoIsVga] = VideoTypeVlfb;
        BinaryPrimitives.WriteUInt16LittleEndian(b[LfbWidth..], checked((ushort)screen.Width));
        BinaryPrimitives.WriteUInt16LittleEndian(b[LfbHeight..], checked((ushort)screen.Height));
        BinaryPrimitives.WriteUInt16LittleEndian(b[LfbDepth..], checked((ushort)screen.BitsPerPixel));
        BinaryPrimitives.WriteUInt32LittleEndian(b[LfbBase..], (uint)screen.Base);
        BinaryPrimitives.WriteUInt32LittleEndian(b[LfbSize..], checked((uint)((screen.Size + 0xFFFF) >> 16)));
        BinaryPrimitives.WriteUInt16LittleEndian(b[LfbLineLength..], checked((ushort)screen.Stride));
        ReadOnlySpan<byte> colours =
        [
            screen.Red.Size, screen.Red.Position, screen.Green.Size, screen.Green.Position,
            screen.Blue.Size, screen.Blue.Position, screen.Reserved.Size, screen.Reserved.Position,
        ];
        colours.CopyTo(b[RedSize..]);
        if (screen.Base > uint.MaxValue)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b[ExtLfbBase..], (uint)(screen.Base >> 32));
            BinaryPrimitives.WriteUInt32LittleEndian(b[Capabilities..], Capability64BitBase);
        }
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
