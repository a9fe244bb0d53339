namespace Platform.Devices.Display;

// Register numbers and bits, named as in QEMU's hw/display/bochs_vbe.h and vga_regs.h and Linux's
// drivers/gpu/drm/tiny/bochs.c, so a reader can hold the three side by side.
public sealed partial class StdVga
{
    // DISPI register indexes (written to port 0x1CE, or implied by the MMIO offset).
    internal const int IndexId = 0x0;
    internal const int IndexXRes = 0x1;
    internal const int IndexYRes = 0x2;
    internal const int IndexBpp = 0x3;
    internal const int IndexEnable = 0x4;
    internal const int IndexBank = 0x5;
    internal const int IndexVirtWidth = 0x6;
    internal const int IndexVirtHeight = 0x7;
    internal const int IndexXOffset = 0x8;
    internal const int IndexYOffset = 0x9;
    /// <summary>Read-only: video memory in 64 KiB units. Also the number of registers kept in the array.</summary>
    internal const int IndexVideoMemory64K = 0xA;
    private const int RegisterCount = 0xA;

    /// <summary>The interface versions a guest may select; reset leaves the newest.</summary>
    internal const ushort IdFirst = 0xB0C0;
    internal const ushort IdLatest = 0xB0C5;

    // ENABLE register bits.
    internal const ushort EnableOn = 0x01;
    internal const ushort EnableGetCaps = 0x02;
    internal const ushort Enable8BitDac = 0x20;
    internal const ushort EnableLinearFramebuffer = 0x40;
    internal const ushort EnableNoClearMemory = 0x80;

    // The ports as offsets in the DISPI port range (0x1CE–0x1D0): QEMU answers the data register at both 0x1CF
    // (x86's unaligned 16-bit port) and 0x1D0.
    private const ulong DispiIndexPort = 0;
    private const ulong DispiDataPort = 1;
    private const ulong DispiDataPortAlias = 2;

    // QEMU std-vga's MMIO BAR (region 2) layout (hw/display/vga-pci.c).
    private const ulong MmioEdidEnd = 0x400;
    private const ulong MmioVgaPorts = 0x400;      // ports 0x3C0–0x3DF
    private const ulong MmioDispi = 0x500;         // DISPI register n at 0x500 + 2n
    private const ulong MmioDispiEnd = 0x500 + (0x0B * 2);
    private const ulong MmioQemuExtension = 0x600;
    private const ulong MmioQemuExtensionEnd = 0x608;
    private const ulong QextSizeRegister = 0x600;
    private const ulong QextByteOrderRegister = 0x604;
    private const uint QextSize = 8;
    internal const uint QextLittleEndian = 0x1E1E1E1E;
    internal const uint QextBigEndian = 0xBEBEBEBE;

    // VGA ports as offsets from 0x3C0.
    private const int VgaAttributeWrite = 0x00;    // 0x3C0: index, then data, alternating
    private const int VgaAttributeRead = 0x01;     // 0x3C1
    private const int VgaMiscWrite = 0x02;         // 0x3C2
    private const int VgaSequencerIndex = 0x04;    // 0x3C4
    private const int VgaSequencerData = 0x05;     // 0x3C5
    private const int VgaPelMask = 0x06;           // 0x3C6
    private const int VgaDacReadIndex = 0x07;      // 0x3C7 (reads back the DAC state)
    private const int VgaDacWriteIndex = 0x08;     // 0x3C8
    private const int VgaDacData = 0x09;           // 0x3C9
    private const int VgaFeatureRead = 0x0A;       // 0x3CA
    private const int VgaMiscRead = 0x0C;          // 0x3CC
    private const int VgaGraphicsIndex = 0x0E;     // 0x3CE
    private const int VgaGraphicsData = 0x0F;      // 0x3CF
    private const int VgaCrtcIndex = 0x14;         // 0x3D4
    private const int VgaCrtcData = 0x15;          // 0x3D5
    private const int VgaInputStatus1 = 0x1A;      // 0x3DA: reading resets the attribute flip-flop

    /// <summary>Attribute index bit 5: the palette address source; clear means video output is off.</summary>
    private const byte AttributeVideoOn = 0x20;
    private const byte InputStatusRetraceBits = 0x09; // vertical retrace | display disabled, toggled per read
}
