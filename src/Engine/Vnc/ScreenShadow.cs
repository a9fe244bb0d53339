using System.Numerics;
using Platform.Devices.Display;

namespace Platform.Engine.Vnc;

/// <summary>
/// The server's copy of the visible screen as 0x00RRGGBB pixels, one for all clients. A refresh reads only the lines
/// the dirty log points at, compares them with the copy tile by tile, and records which 16×16 tiles really changed
/// (a page the guest rewrote with the same pixels, or a whole 4 KiB page touched for one pixel, costs nothing on the
/// wire). Encoders read pixels from here, never from video memory, so what a client gets is always a state the
/// server compared — and the guest can keep writing while an update is encoded.
/// </summary>
internal sealed class ScreenShadow
{
    private const int PaletteSize = 256;

    /// <summary>
    /// The most pixels the copy holds (64 MiB of them): what 16 MiB of video memory can show at 8 bpp. A guest with more
    /// video memory and a larger mode is shown cut to this many lines, so no guest can make the VMM's copy huge.
    /// </summary>
    internal const int MaxPixels = 1 << 24;

    private readonly uint[] _palette = new uint[PaletteSize];
    private readonly ScrollDetector _scrollDetector = new();
    private ulong[] _dirtyPages = [];
    private int[] _rowFirst = [];   // per line: first pixel the dirty pages touch (int.MaxValue: none)
    private int[] _rowEnd = [];     // per line: one past the last
    private uint[] _line = [];
    private int _paletteVersion = int.MinValue;
    private bool _primed;

    public ScreenShadow() => Changed = new DirtyTiles();

    /// <summary>The screen, <see cref="Width"/> pixels per line.</summary>
    public uint[] Pixels { get; private set; } = [];

    public int Width { get; private set; }

    public int Height { get; private set; }

    public DisplayMode Mode { get; private set; }

    /// <summary>Tiles that changed in the last <see cref="Update"/> (cleared by the caller once handed on).</summary>
    public DirtyTiles Changed { get; }

    /// <summary>Scroll found by the last update, for clients that can take it as a CopyRect; null if none.</summary>
    public ScrollMove? Scroll { get; private set; }

    /// <summary>Pixels compared in the last update (what the dirty log saved shows as this staying small).</summary>
    public long PixelsCompared { get; private set; }

    /// <summary>Brings the copy up to date with <paramref name="source"/>; returns true when the screen size changed.</summary>
    public bool Update(IFramebufferSource source, bool detectScroll)
    {
        source.BeginRefresh();
        DisplayMode mode = Bounded(source.Mode);
        DisplayMode previous = Mode;
        ReadOnlySpan<byte> memory = source.VideoMemory;
        bool resized = !_primed || mode.Width != Width || mode.Height != Height;
        bool compareAll = resized || mode != Mode;
        if (resized)
        {
            Resize(mode.Width, mode.Height);
        }

        if (mode.BitsPerPixel == 8 && mode.Visible)
        {
            int version = source.PaletteVersion;
            if (version != _paletteVersion)
            {
                source.CopyPalette(_palette);
                _paletteVersion = version;
                compareAll = true;
            }
        }

        Mode = mode;
        _primed = true;
        Scroll = null;
        PixelsCompared = 0;

        int pages = (memory.Length + IFramebufferSource.PageSize - 1) / IFramebufferSource.PageSize;
        int words = (pages + 63) / 64;
        if (_dirtyPages.Length != words)
        {
            _dirtyPages = new ulong[words];
        }

        Array.Clear(_dirtyPages);
        bool logged = source.CollectDirtyPages(_dirtyPages);
        if (!mode.Visible)
        {
            // Nothing on screen: only a change of mode can change what is shown (black).
            if (compareAll)
            {
                CompareRows(mode, memory, 0, Height);
            }

            return resized;
        }

        if (compareAll || !logged)
        {
            // A page flip or a pan (only where the screen starts moved), or no log to go by: every line may have
            // changed, and a double-buffered console that scrolled is still a scroll worth a CopyRect.
            if (detectScroll && !resized && previous.Visible && SameLayout(previous, mode))
            {
                Array.Fill(_rowFirst, 0);
                Array.Fill(_rowEnd, Width);
                Scroll = _scrollDetector.Detect(this, mode, memory, _palette, _rowFirst, _line);
                if (Scroll is { } moved)
                {
                    ApplyScroll(moved);
                }
            }

            CompareRows(mode, memory, 0, Height);
            return resized;
        }

        if (!MarkRowsFromPages(mode))
        {
            return resized;
        }

        if (detectScroll)
        {
            Scroll = _scrollDetector.Detect(this, mode, memory, _palette, _rowFirst, _line);
            if (Scroll is { } scroll)
            {
                ApplyScroll(scroll);
            }
        }

        for (int y = 0; y < Height; y++)
        {
            if (_rowFirst[y] < _rowEnd[y])
            {
                CompareLine(mode, memory, y, _rowFirst[y], _rowEnd[y]);
            }
        }

        return resized;
    }

    /// <summary>True when the two modes lay pixels out alike, wherever the screen starts.</summary>
    private static bool SameLayout(DisplayMode a, DisplayMode b) =>
        a with { StartOffset = 0 } == b with { StartOffset = 0 };

    /// <summary>A mode cut to what the copy holds and RFB can describe; a nonsensical one shows as an empty screen.</summary>
    private static DisplayMode Bounded(DisplayMode mode)
    {
        if (mode.Width <= 0 || mode.Height <= 0 || mode.Width > ushort.MaxValue || mode.Stride <= 0)
        {
            return DisplayMode.PowerOn;
        }

        return (long)mode.Width * mode.Height > MaxPixels ? mode with { Height = MaxPixels / mode.Width } : mode with { Height = Math.Min(mode.Height, ushort.MaxValue) };
    }

    /// <summary>Forgets the copy: the next update reads the whole screen (used when refreshes stopped for a while).</summary>
    public void Invalidate() => _primed = false;

    private void Resize(int width, int height)
    {
        Width = width;
        Height = height;
        Pixels = new uint[checked(width * height)];
        _rowFirst = new int[height];
        _rowEnd = new int[height];
        _line = new uint[width];
        Changed.Resize(width, height);
    }

    /// <summary>Turns dirty pages into per-line pixel ranges; false when no visible line was touched.</summary>
    private bool MarkRowsFromPages(DisplayMode mode)
    {
        Array.Fill(_rowFirst, int.MaxValue);
        Array.Clear(_rowEnd);
        int bytesPerPixel = mode.BytesPerPixel;
        long visibleStart = mode.StartOffset;
        long visibleEnd = visibleStart + ((long)(Height - 1) * mode.Stride) + ((long)Width * bytesPerPixel);
        bool any = false;
        for (int word = 0; word < _dirtyPages.Length; word++)
        {
            ulong bits = _dirtyPages[word];
            while (bits != 0)
            {
                int bit = BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                long pageStart = ((long)word * 64 + bit) * IFramebufferSource.PageSize;
                long pageEnd = pageStart + IFramebufferSource.PageSize;
                if (pageEnd <= visibleStart || pageStart >= visibleEnd)
                {
                    continue;
                }

                long first = Math.Max(pageStart, visibleStart) - visibleStart;
                long last = Math.Min(pageEnd, visibleEnd) - 1 - visibleStart;
                int y0 = (int)(first / mode.Stride), y1 = (int)Math.Min(last / mode.Stride, Height - 1);
                for (int y = y0; y <= y1; y++)
                {
                    long lineStart = visibleStart + ((long)y * mode.Stride);
                    long from = Math.Max(pageStart, lineStart) - lineStart;
                    long to = Math.Min(pageEnd, lineStart + ((long)Width * bytesPerPixel)) - lineStart;
                    if (to <= from)
                    {
                        continue;
                    }

                    int x0 = (int)(from / bytesPerPixel);
                    int x1 = (int)Math.Min((to + bytesPerPixel - 1) / bytesPerPixel, Width);
                    _rowFirst[y] = Math.Min(_rowFirst[y], x0);
                    _rowEnd[y] = Math.Max(_rowEnd[y], x1);
                    any = true;
                }
            }
        }

        return any;
    }

    private void CompareRows(DisplayMode mode, ReadOnlySpan<byte> memory, int y0, int y1)
    {
        for (int y = y0; y < y1; y++)
        {
            CompareLine(mode, memory, y, 0, Width);
        }
    }

    /// <summary>Reads pixels [x0, x1) of line y, and copies and marks each 16-pixel tile segment that differs.</summary>
    private void CompareLine(DisplayMode mode, ReadOnlySpan<byte> memory, int y, int x0, int x1)
    {
        // Whole tile segments, so a change is judged against the full tile it marks.
        x0 = x0 / DirtyTiles.TileSize * DirtyTiles.TileSize;
        x1 = Math.Min(((x1 + DirtyTiles.TileSize - 1) / DirtyTiles.TileSize) * DirtyTiles.TileSize, Width);
        Span<uint> fresh = _line.AsSpan(x0, x1 - x0);
        FramebufferConverter.ConvertRow(mode, memory, _palette, y, x0, fresh);
        PixelsCompared += fresh.Length;
        Span<uint> shadow = Pixels.AsSpan((y * Width) + x0, x1 - x0);
        int ty = y / DirtyTiles.TileSize;
        for (int offset = 0; offset < fresh.Length; offset += DirtyTiles.TileSize)
        {
            int length = Math.Min(DirtyTiles.TileSize, fresh.Length - offset);
            Span<uint> was = shadow.Slice(offset, length);
            ReadOnlySpan<uint> now = fresh.Slice(offset, length);
            if (!was.SequenceEqual(now))
            {
                now.CopyTo(was);
                Changed.SetTile((x0 + offset) / DirtyTiles.TileSize, ty);
            }
        }
    }

    /// <summary>Moves the shadow's lines as the guest scrolled them, so the compare that follows finds only what is new.</summary>
    private void ApplyScroll(ScrollMove scroll)
    {
        int lines = scroll.Height;
        Pixels.AsSpan(scroll.SourceY * Width, lines * Width).CopyTo(Pixels.AsSpan(scroll.DestinationY * Width, lines * Width));
        // The moved lines were all rewritten in video memory; make sure each is compared in full.
        for (int y = scroll.DestinationY; y < scroll.DestinationY + lines; y++)
        {
            _rowFirst[y] = 0;
            _rowEnd[y] = Width;
        }
    }
}
