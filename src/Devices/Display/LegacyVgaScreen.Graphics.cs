using System.Runtime.InteropServices;

namespace Platform.Devices.Display;

// The 16-colour planar modes (0Dh, 0Eh, 10h, 12h; graphics mode register shift control 0) and the CGA 4-colour modes
// (04h, 05h; shift control 1) drawn into the x8r8g8b8 picture the way QEMU's vga.c scans them: the CRTC's start
// address and line offset in 32-bit words of the four planes, its scan-line doubling and maximum scan line repeating
// each line, the CGA interleave (mode control bit 0 clear: row scan bit 0 replaces address bit 13 in the guest's
// terms), line compare restarting at address 0, the colour plane enable masking planes, and each 4-bit colour through
// the attribute palette and the DAC. A line is drawn once however often the CRTC repeats it, and a halved dot clock
// does not double pixels, so mode 0Dh and the CGA modes are 320x200, as mode 13h is here (QEMU shows them 640x400).
public sealed partial class LegacyVgaScreen
{
    /// <summary>Largest picture the CRTC's registers can describe: 256 characters of 8 dots, 1024 scan lines.</summary>
    private const int MaxGraphicsWidth = 256 * 8, MaxScanLines = 1024;

    private const int LegacyPageCount = StdVga.LegacyMemorySize / PageSize;

    private GraphicsLayout _graphicsLayout;
    private byte _drawnPlaneEnable;

    /// <summary>Picture rows redrawn by the last refresh of a planar or CGA mode.</summary>
    public int LinesDrawn { get; private set; }

    private void DrawPlanar(StdVga vga, bool blanked)
    {
        var layout = GraphicsLayout.From(_state);
        int width = layout.Width, height = layout.Height;
        bool redrawAll = layout != _graphicsLayout || !Mode.Enabled || Mode.Width != width || Mode.Height != height || Mode.BitsPerPixel != 32;
        if (_pixels.Length != width * height * 4)
        {
            _pixels = new byte[width * height * 4];
            _dirtyPages = new ulong[(((_pixels.Length + PageSize - 1) / PageSize) + 63) / 64];
            redrawAll = true;
        }

        byte planeEnable = (byte)(_state.Attributes[0x12] & 0x0F);
        redrawAll |= UpdateColors() | planeEnable != _drawnPlaneEnable;
        _drawnPlaneEnable = planeEnable;
        _graphicsLayout = layout;
        _layout = default; // a later text mode redraws every cell
        Mode = new DisplayMode(true, blanked, width, height, 32, width * 4, 0, false);
        ulong written = vga.TakeLegacyDirtyPages();
        if (redrawAll)
        {
            _allDirty = true;
        }

        ReadOnlySpan<byte> memory = vga.VideoMemory.Span;
        int wordsPerLine = width / 8;       // each 32-bit word of four planes holds 8 pixels in both decodings
        int addressMask = memory.Length - 1; // video memory is a power of two: addresses wrap as QEMU's do
        int rowAddress = layout.Start;
        int scanInRow = 0, row = 0;
        LinesDrawn = 0;
        for (int scan = 0; scan < layout.ScanLines; scan++)
        {
            int address = rowAddress;
            if (!layout.NoCgaInterleave)
            {
                // Row scan counter bit 0 picks the odd-line bank: the guest's address bit 13, bit 14 or 15 here.
                int bit = layout.ByteMode ? 15 : 14;
                address = (address & ~(1 << bit)) | ((row & 1) << bit);
            }

            if (!layout.NoHerculesInterleave)
            {
                address = (address & ~0x8000) | ((row & 2) << 14);
            }

            if (scanInRow == 0 && scan / layout.Repeat < height)
            {
                int line = scan / layout.Repeat;
                if (redrawAll || Written(written, address & addressMask, wordsPerLine * 4))
                {
                    Span<uint> pixels = MemoryMarshal.Cast<byte, uint>(_pixels.AsSpan(line * width * 4, width * 4));
                    DrawPlanarLine(memory, address, addressMask, pixels, layout.Cga, planeEnable);
                    MarkPages(line * width * 4, width * 4);
                    LinesDrawn++;
                }
            }

            if (++scanInRow == layout.Repeat)
            {
                scanInRow = 0;
                int mask = layout.RowAdvanceMask;
                if ((row & mask) == mask)
                {
                    rowAddress += layout.LineOffset;
                }

                row++;
            }

            if (scan == layout.LineCompare)
            {
                rowAddress = 0; // the split screen's lower part starts at address 0
            }
        }
    }

    private void MarkPages(int byteOffset, int length)
    {
        for (int page = byteOffset / PageSize; page <= (byteOffset + length - 1) / PageSize; page++)
        {
            _dirtyPages[page / 64] |= 1UL << (page % 64);
        }
    }

    /// <summary>True when the guest wrote any 4 KiB page of video memory in [address, address + length).</summary>
    private static bool Written(ulong pages, int address, int length)
    {
        int first = address / PageSize, last = (address + length - 1) / PageSize;
        for (int page = first; page <= last; page++)
        {
            // The window's page marks cover only its first 256 KiB: lines past them are drawn whenever anything changed.
            if (page >= LegacyPageCount || (pages & (1UL << page)) != 0)
            {
                return true;
            }
        }

        return false;
    }

    private void DrawPlanarLine(ReadOnlySpan<byte> memory, int address, int addressMask, Span<uint> pixels, bool cga, byte planeEnable)
    {
        for (int x = 0; x + 8 <= pixels.Length; x += 8)
        {
            int at = address & addressMask & ~3;
            address += 4;
            int p0 = (planeEnable & 1) != 0 ? memory[at] : 0;
            int p1 = (planeEnable & 2) != 0 ? memory[at + 1] : 0;
            int p2 = (planeEnable & 4) != 0 ? memory[at + 2] : 0;
            int p3 = (planeEnable & 8) != 0 ? memory[at + 3] : 0;
            if (cga)
            {
                // Two bits a pixel, leftmost in bits 7-6: plane 0 (even bytes) then plane 1 (odd bytes), planes 2 and
                // 3 giving the colour's upper two bits.
                for (int i = 0; i < 4; i++)
                {
                    int shift = 6 - (2 * i);
                    pixels[x + i] = _colors[((p0 >> shift) & 3) | (((p2 >> shift) & 3) << 2)];
                    pixels[x + 4 + i] = _colors[((p1 >> shift) & 3) | (((p3 >> shift) & 3) << 2)];
                }
            }
            else
            {
                // One bit a pixel in each plane, leftmost in bit 7; plane n gives bit n of the colour.
                for (int i = 0; i < 8; i++)
                {
                    int bit = 7 - i;
                    int color = ((p0 >> bit) & 1) | (((p1 >> bit) & 1) << 1) | (((p2 >> bit) & 1) << 2) | (((p3 >> bit) & 1) << 3);
                    pixels[x + i] = _colors[color];
                }
            }
        }
    }

    /// <summary>The planar or CGA mode's shape, from the CRTC and graphics controller; clamped, never thrown.</summary>
    private readonly record struct GraphicsLayout(
        int Width,
        int Height,
        int ScanLines,
        int Repeat,
        int Start,
        int LineOffset,
        int LineCompare,
        bool Cga,
        bool NoCgaInterleave,
        bool NoHerculesInterleave,
        bool ByteMode,
        int RowAdvanceMask)
    {
        public static GraphicsLayout From(LegacyVgaState state)
        {
            byte[] crtc = state.Crtc;
            byte modeControl = crtc[0x17];
            int width = Math.Clamp((crtc[0x01] + 1) * 8, 8, MaxGraphicsWidth);
            int scanLines = Math.Clamp(VerticalDisplayEnd(crtc) + 1, 1, MaxScanLines);
            int doubleScan = crtc[0x09] >> 7;

            // With the CGA interleave the maximum scan line counts the banks, not repeats (QEMU: only doubling).
            int repeat = (modeControl & 1) != 0 ? ((crtc[0x09] & 0x1F) + 1) << doubleScan : 1 << doubleScan;
            int lineCompare = crtc[0x18] | ((crtc[0x07] & 0x10) << 4) | ((crtc[0x09] & 0x40) << 3);
            return new GraphicsLayout(
                width,
                Math.Max(1, (scanLines + repeat - 1) / repeat),
                scanLines,
                repeat,
                ((crtc[0x0C] << 8) | crtc[0x0D]) * 4,
                crtc[0x13] * 8,
                lineCompare,
                ((state.Graphics[StdVga.GfxMode] >> 5) & 3) == 1,
                (modeControl & 1) != 0,
                (modeControl & 2) != 0,
                (modeControl & 0x40) != 0,
                (modeControl & 3) ^ 3);
        }
    }
}
