namespace Platform.Devices.Display;

/// <summary>
/// What a monitor shows of the std-vga while no VBE mode is set: text mode drawn into a 32-bit x8r8g8b8 picture with
/// the font from plane 2 (80×25 at 9×16 is 720×400, as QEMU shows it; 80×50 at 9×8 the same size), the 16-colour
/// planar and CGA graphics modes drawn into such a picture too, and mode 13h (320×200, 256 colours) scanned straight out
/// of video memory through the DAC. The display server reads <see cref="Mode"/>, <see cref="Memory"/> and
/// <see cref="TakeDirtyPages"/> after each <see cref="Refresh"/>.
/// </summary>
/// <remarks>
/// <para>
/// An unchanged screen costs one counter read: <see cref="Refresh"/> returns at once when
/// <see cref="StdVga.LegacyChanges"/> and the blink phases are what it last drew. Otherwise it copies the registers,
/// compares each character cell (character, attribute, cursor, blink) and the font with what it drew, redraws only the
/// cells that differ and marks their pages of the picture, so the server compares only those lines.
/// </para>
/// <para>
/// Colours go as on a VGA: a 4-bit attribute colour through the attribute controller's palette (and its colour
/// select register) to a DAC entry. With blinking enabled (attribute mode control bit 3) attribute bit 7 blinks the
/// character instead of brightening the background. The ninth column of line-drawing characters repeats the eighth, for
/// 0xB0–0xDF as QEMU does (the IBM VGA did so for 0xC0–0xDF), so the two VMMs' screens compare equal. The caller picks
/// the blink phases (a clock in the engine, fixed in tests).
/// </para>
/// <para>
/// The 16-colour planar and CGA graphics modes are drawn into the picture line by line (LegacyVgaScreen.Graphics.cs):
/// the window's page marks say which lines of video memory the guest wrote, and only those are drawn again.
/// </para>
/// </remarks>
public sealed partial class LegacyVgaScreen
{
    /// <summary>Bigger text screens than this (in cells) are taken for nonsense and shown black.</summary>
    public const int MaxColumns = 160, MaxRows = 100;

    private const int PageSize = 4096;
    private const int FontMapBytes = 8192;   // one character map: 256 characters of 32 rows in plane 2
    private const int CellCursor = 1 << 16, CellHidden = 1 << 17;

    private readonly LegacyVgaState _state = new();
    private readonly uint[] _colors = new uint[16];
    private readonly byte[] _font = new byte[2 * 256 * 32];
    private readonly byte[] _fontDrawn = new byte[2 * 256 * 32];
    private StdVga? _vga;
    private byte[] _pixels = [];
    private int[] _cells = [];
    private ulong[] _dirtyPages = [];
    private bool _allDirty = true;
    private long _drawnChanges = long.MinValue;
    private bool _drawnCursorOn;
    private bool _drawnBlinkOn;
    private bool _drawnGraphics; // graphics modes have no cursor or blinking: their phases change nothing
    private TextLayout _layout;
    private bool _scanoutFromVideoMemory;

    /// <summary>What the screen shows: enabled with the legacy mode's size, blanked while video output is off.</summary>
    public DisplayMode Mode { get; private set; } = DisplayMode.PowerOn;

    /// <summary>The memory <see cref="Mode"/> describes: the drawn picture, or video memory for mode 13h.</summary>
    public ReadOnlySpan<byte> Memory => _scanoutFromVideoMemory && _vga is not null ? _vga.VideoMemory.Span : _pixels;

    /// <summary>Refreshes that found nothing changed, and refreshes that drew (for tests and statistics).</summary>
    public long IdleRefreshes { get; private set; }

    public long DrawingRefreshes { get; private set; }

    /// <summary>Cells redrawn by the last refresh.</summary>
    public int CellsDrawn { get; private set; }

    /// <summary>Brings <see cref="Mode"/> and <see cref="Memory"/> up to date with <paramref name="vga"/>.</summary>
    /// <param name="cursorOn">The cursor's blink phase: drawn or not.</param>
    /// <param name="blinkOn">The blinking characters' phase: shown or not.</param>
    public void Refresh(StdVga vga, bool cursorOn, bool blinkOn)
    {
        ArgumentNullException.ThrowIfNull(vga);
        if (!ReferenceEquals(vga, _vga))
        {
            _vga = vga;
            _drawnChanges = long.MinValue;
            _allDirty = true;
        }

        long changes = vga.LegacyChanges;
        if (changes == _drawnChanges && (_drawnGraphics || (cursorOn == _drawnCursorOn && blinkOn == _drawnBlinkOn)))
        {
            IdleRefreshes++;
            return;
        }

        DrawingRefreshes++;
        CellsDrawn = 0;
        vga.CaptureLegacyState(_state);
        _drawnChanges = _state.Changes;
        _drawnCursorOn = cursorOn;
        _drawnBlinkOn = blinkOn;
        _drawnGraphics = _state.GraphicsMode;
        if (_state.GraphicsMode)
        {
            ShowGraphics(vga);
        }
        else
        {
            _scanoutFromVideoMemory = false;
            _graphicsLayout = default; // a later graphics mode draws every line
            DrawText(vga.VideoMemory.Span, cursorOn, blinkOn);
        }
    }

    /// <summary>
    /// Sets a bit for each page of <see cref="Memory"/> drawn (or written by the guest, for mode 13h) since the last
    /// call, as <c>IFramebufferSource.CollectDirtyPages</c> wants them; false when everything must be compared.
    /// </summary>
    public bool TakeDirtyPages(Span<ulong> dirtyPages)
    {
        if (_scanoutFromVideoMemory)
        {
            ulong legacy = _vga?.TakeLegacyDirtyPages() ?? ulong.MaxValue;
            if (_allDirty)
            {
                _allDirty = false;
                return false;
            }

            if (dirtyPages.Length > 0)
            {
                dirtyPages[0] |= legacy;
            }

            return true;
        }

        if (_allDirty || dirtyPages.Length < _dirtyPages.Length)
        {
            _allDirty = false;
            Array.Clear(_dirtyPages);
            return false;
        }

        for (int i = 0; i < _dirtyPages.Length; i++)
        {
            dirtyPages[i] |= _dirtyPages[i];
        }

        Array.Clear(_dirtyPages);
        return true;
    }

    /// <summary>
    /// The 16-colour planar and CGA modes (shift control 0 and 1) are drawn; 256-colour modes are scanned out of video
    /// memory as they are: mode 13h and, as QEMU shows them, the unchained ones (mode X), whose pixel x of a line is
    /// plane x mod 4 of word x / 4, that is byte x of the line in video memory.
    /// </summary>
    private void ShowGraphics(StdVga vga)
    {
        byte[] crtc = _state.Crtc;
        int shiftControl = (_state.Graphics[StdVga.GfxMode] >> 5) & 3;
        bool blanked = !_state.VideoOn || (_state.Sequencer[StdVga.SeqClockingMode] & 0x20) != 0;
        bool wasScanout = _scanoutFromVideoMemory;
        if (shiftControl < 2)
        {
            _scanoutFromVideoMemory = false;
            if (wasScanout)
            {
                _graphicsLayout = default;
            }

            DrawPlanar(vga, blanked);
            return;
        }

        _graphicsLayout = default;
        _layout = default;

        // Two dot clocks per pixel in 256-colour mode; the start address and line offset count 32-bit words.
        int width = (crtc[0x01] + 1) * 4;
        int scanLines = VerticalDisplayEnd(crtc) + 1;
        int linesPerRow = ((crtc[0x09] & 0x1F) + 1) * ((crtc[0x09] & 0x80) != 0 ? 2 : 1);
        int height = scanLines / linesPerRow;
        int stride = crtc[0x13] * 8;
        int start = ((crtc[0x0C] << 8) | crtc[0x0D]) * 4;
        bool fits = width > 0 && height > 0 && stride >= width && start + ((long)stride * height) <= vga.VideoMemory.Length;
        _scanoutFromVideoMemory = true;
        var mode = new DisplayMode(true, blanked || !fits, Math.Max(width, 8), Math.Max(height, 1), 8, Math.Max(stride, 8), fits ? start : 0, false);
        if (mode != Mode || !wasScanout)
        {
            _allDirty = true;
        }

        Mode = mode;
    }

    private static int VerticalDisplayEnd(byte[] crtc) => crtc[0x12] | ((crtc[0x07] & 0x02) << 7) | ((crtc[0x07] & 0x40) << 3);

    private void DrawText(ReadOnlySpan<byte> memory, bool cursorOn, bool blinkOn)
    {
        var layout = TextLayout.From(_state);
        bool blanked = !_state.VideoOn || (_state.Sequencer[StdVga.SeqClockingMode] & 0x20) != 0;
        if (!layout.Valid)
        {
            Mode = Mode with { Blanked = true };
            _layout = layout;
            return;
        }

        int width = layout.Columns * layout.CellWidth, height = layout.Rows * layout.CellHeight;
        bool redrawAll = layout != _layout || Mode.Width != width || Mode.Height != height;
        if (_pixels.Length != width * height * 4)
        {
            _pixels = new byte[width * height * 4];
            _dirtyPages = new ulong[(((_pixels.Length + PageSize - 1) / PageSize) + 63) / 64];
            redrawAll = true;
        }

        if (_cells.Length != layout.Columns * layout.Rows)
        {
            _cells = new int[layout.Columns * layout.Rows];
            redrawAll = true;
        }

        redrawAll |= UpdateColors();
        redrawAll |= ReadFont(memory, layout);
        _layout = layout;
        Mode = new DisplayMode(true, blanked, width, height, 32, width * 4, 0, false);
        if (redrawAll)
        {
            _allDirty = true;
        }

        int cursorAddress = (_state.Crtc[0x0E] << 8) | _state.Crtc[0x0F];
        bool cursorShown = cursorOn && layout.CursorVisible;
        bool blinkEnabled = (_state.Attributes[0x10] & 0x08) != 0;
        for (int row = 0; row < layout.Rows; row++)
        {
            for (int column = 0; column < layout.Columns; column++)
            {
                int address = layout.StartAddress + (row * layout.LineOffset) + column;
                int word = (address & 0xFFFF) * 4;
                int cell = memory[word] | (memory[word + 1] << 8);
                if (cursorShown && address == cursorAddress)
                {
                    cell |= CellCursor;
                }

                if (blinkEnabled && !blinkOn && (cell & 0x8000) != 0)
                {
                    cell |= CellHidden;
                }

                int index = (row * layout.Columns) + column;
                if (!redrawAll && _cells[index] == cell)
                {
                    continue;
                }

                _cells[index] = cell;
                DrawCell(layout, row, column, cell, blinkEnabled);
                CellsDrawn++;
            }
        }
    }

    /// <summary>The 16 text colours through the attribute palette and the DAC; true when any changed.</summary>
    private bool UpdateColors()
    {
        byte[] ar = _state.Attributes;
        bool changed = false;
        for (int i = 0; i < 16; i++)
        {
            int v = (ar[0x10] & 0x80) != 0
                ? ((ar[0x14] & 0x0F) << 4) | (ar[i] & 0x0F)
                : ((ar[0x14] & 0x0C) << 4) | (ar[i] & 0x3F);
            uint color = _state.Palette[v];
            changed |= _colors[i] != color;
            _colors[i] = color;
        }

        return changed;
    }

    /// <summary>Copies the glyph rows of both selected character maps out of plane 2; true when they changed.</summary>
    private bool ReadFont(ReadOnlySpan<byte> memory, TextLayout layout)
    {
        for (int map = 0; map < 2; map++)
        {
            int mapBase = (map == 0 ? layout.FontMapB : layout.FontMapA) * FontMapBytes;
            for (int i = 0; i < 256 * 32; i++)
            {
                int word = (mapBase + i) * 4;
                _font[(map * 256 * 32) + i] = memory[word + 2];
            }
        }

        if (_font.AsSpan().SequenceEqual(_fontDrawn))
        {
            return false;
        }

        _font.CopyTo(_fontDrawn, 0);
        return true;
    }

    private void DrawCell(TextLayout layout, int row, int column, int cell, bool blinkEnabled)
    {
        int character = cell & 0xFF, attribute = (cell >> 8) & 0xFF;
        int background = blinkEnabled ? (attribute >> 4) & 7 : attribute >> 4;
        uint bg = _colors[background];
        uint fg = (cell & CellHidden) != 0 ? bg : _colors[attribute & 0x0F];
        int glyph = (((attribute >> 3) & 1) * 256 * 32) + (character * 32);
        bool lineGraphics = (_state.Attributes[0x10] & 0x04) != 0 && character is >= 0xB0 and <= 0xDF;
        int dotWidth = layout.CellWidth >= 16 ? 2 : 1;      // 40-column modes double each dot
        int glyphWidth = layout.CellWidth / dotWidth;      // 8 or 9 dots
        int stride = layout.Columns * layout.CellWidth * 4;
        int cursorFirst = (cell & CellCursor) != 0 ? layout.CursorStart : int.MaxValue;
        for (int y = 0; y < layout.CellHeight; y++)
        {
            int bits = _font[glyph + y];
            if (y >= cursorFirst && y <= layout.CursorEnd)
            {
                bits = 0x1FF;
            }
            else
            {
                bits <<= 1;
                if (glyphWidth == 9 && lineGraphics)
                {
                    bits |= (bits >> 1) & 1;     // the ninth dot repeats the eighth
                }
            }

            int offset = (((row * layout.CellHeight) + y) * stride) + (column * layout.CellWidth * 4);
            Span<uint> line = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(_pixels.AsSpan(offset, layout.CellWidth * 4));
            for (int dot = 0; dot < glyphWidth; dot++)
            {
                // Bit 8 is the glyph's leftmost dot (bit 7 of its font byte), bit 0 the ninth column.
                uint color = (bits & (0x100 >> dot)) != 0 ? fg : bg;
                for (int d = 0; d < dotWidth; d++)
                {
                    line[(dot * dotWidth) + d] = color;
                }
            }

            MarkPage(offset);
            MarkPage(offset + (layout.CellWidth * 4) - 1);
        }
    }

    private void MarkPage(int byteOffset)
    {
        int page = byteOffset / PageSize;
        _dirtyPages[page / 64] |= 1UL << (page % 64);
    }

    /// <summary>The text mode's shape, from the CRTC, sequencer and attribute registers.</summary>
    private readonly record struct TextLayout(
        bool Valid,
        int Columns,
        int Rows,
        int CellWidth,
        int CellHeight,
        int StartAddress,
        int LineOffset,
        bool CursorVisible,
        int CursorStart,
        int CursorEnd,
        int FontMapA,
        int FontMapB,
        byte AttributeMode)
    {
        public static TextLayout From(LegacyVgaState state)
        {
            byte[] crtc = state.Crtc, seq = state.Sequencer;
            int columns = crtc[0x01] + 1;
            int cellWidth = (seq[StdVga.SeqClockingMode] & 0x01) != 0 ? 8 : 9;
            if ((seq[StdVga.SeqClockingMode] & 0x08) != 0)
            {
                cellWidth = 16; // dot clock halved (40 columns); QEMU draws these 16 wide too
            }

            int cellHeight = (crtc[0x09] & 0x1F) + 1;
            int rows = (VerticalDisplayEnd(crtc) + 1) / cellHeight;
            int cursorStart = crtc[0x0A] & 0x1F;
            int cursorEnd = Math.Min(crtc[0x0B] & 0x1F, cellHeight - 1);
            byte characterMap = seq[StdVga.SeqCharacterMap];
            return new TextLayout(
                columns <= MaxColumns && rows is > 0 and <= MaxRows,
                columns,
                rows,
                cellWidth,
                cellHeight,
                (crtc[0x0C] << 8) | crtc[0x0D],
                crtc[0x13] * 2,
                (crtc[0x0A] & 0x20) == 0 && cursorStart <= cursorEnd,
                cursorStart,
                cursorEnd,
                ((characterMap >> 5) & 1) | ((characterMap >> 1) & 6),
                ((characterMap >> 4) & 1) | ((characterMap << 1) & 6),
                state.Attributes[0x10]);
        }
    }
}
