namespace Platform.Engine.Vnc.Encoders;

/// <summary>
/// Tight (encoding 7), one instance per connection: it owns that connection's four zlib streams, which the client
/// mirrors, so each keeps its dictionary from one rectangle to the next (stream 0 full colour, 1 two-colour bitmaps,
/// 2 palette indexes, 3 gradient residuals).
/// <para>
/// A changed rectangle is first searched for large areas of one colour (sent as a fill) and of two colours (text on a
/// plain background, sent as a one-bit bitmap), as TightVNC and QEMU search for solid areas; what is left around them
/// is cut into pieces of at most 2048 pixels wide and 65536 pixels, and each piece gets the subencoding that suits it
/// (<see cref="EncodeSubrect"/>): a fill, a bitmap, a palette, the gradient filter, JPEG for photo-like areas when
/// the client asked for a quality level, or plain full colour.
/// </para>
/// </summary>
internal sealed partial class TightEncoder : IDisposable
{
    private const int MaxWidth = 2048;
    private const int MaxPixels = 65536;
    /// <summary>Below this many pixels a rectangle is not searched for areas (TightVNC's MIN_SPLIT_RECT_SIZE).</summary>
    private const int MinSplitPixels = 4096;
    /// <summary>A fill this large pays for the rectangle headers cutting it out costs (TightVNC's MIN_SOLID_SUBRECT_SIZE).</summary>
    private const int MinSolidPixels = 2048;
    /// <summary>
    /// A two-colour area pays only when larger: a bitmap's bytes are few anyway, and every cut costs headers and
    /// breaks zlib's matches along the lines. 8192 was the best of 4096–32768 on the desktop scene of bench/vnc.sh.
    /// </summary>
    private const int MinTwoColourPixels = 8192;
    /// <summary>Without a level from the client: the best compression, as QEMU's default. Slow links are the point.</summary>
    internal const int DefaultLevel = 9;

    private readonly ZlibChannel[] _streams = [new(), new(), new(), new()];
    private readonly ColourPalette _palette = new();
    private readonly RfbBuffer _data = new(MaxPixels * 4);
    private readonly RfbBuffer _compressed = new(MaxPixels);
    private JpegEncoder? _jpeg;
    private int _level = DefaultLevel;
    private int _jpegQuality = -1;

    // What the Encode call in progress works on.
    private ScreenPixels _screen;
    private PixelTranslator _translator = null!;
    private RfbBuffer _output = null!;
    private int _count;

    /// <summary>
    /// Applies the client's compression level (0–9, or -1 when it sent none: then <see cref="DefaultLevel"/>). The
    /// zlib level follows it (at least 1), in the streams the client already has: never a reset
    /// (<see cref="ZlibChannel"/> says why).
    /// </summary>
    public void SetLevel(int level)
    {
        _level = level < 0 ? DefaultLevel : Math.Min(level, 9);
        foreach (ZlibChannel stream in _streams)
        {
            stream.SetLevel(Math.Max(_level, 1));
        }
    }

    /// <summary>
    /// Applies the client's JPEG quality level (0–9), or -1 when it sent none: then everything stays lossless. With a
    /// level, photo-like areas of 24-bit clients go as JPEG; text and drawings stay lossless either way.
    /// </summary>
    public void SetQuality(int level) =>
        _jpegQuality = level < 0 ? -1 : JpegQualities[Math.Min(level, JpegQualities.Length - 1)];

    /// <summary>JPEG quality (1–100) per quality level, after TurboVNC's mapping.</summary>
    private static readonly int[] JpegQualities = [15, 29, 41, 42, 62, 77, 79, 86, 92, 100];

    /// <summary>Encodes <paramref name="rect"/> as one or more Tight rectangles; returns how many.</summary>
    public int Encode(ScreenPixels screen, PixelRect rect, PixelTranslator translator, RfbBuffer output)
    {
        _screen = screen;
        _translator = translator;
        _output = output;
        _count = 0;
        try
        {
            EncodeRegion(rect);
            return _count;
        }
        finally
        {
            _translator = null!;
            _output = null!;
            _screen = default;
        }
    }

    /// <summary>
    /// Scans <paramref name="rect"/> tile by tile for the first tile of one or two colours that grows into an area
    /// worth cutting out; sends the part above it as pieces, the parts left, right and below through this same
    /// search, and the area itself as a fill or as bitmap pieces. Without such an area the whole goes as pieces.
    /// </summary>
    private void EncodeRegion(PixelRect rect)
    {
        if ((long)rect.Width * rect.Height < MinSplitPixels)
        {
            EncodeSimple(rect);
            return;
        }

        int maxRows = MaxPixels / Math.Min(rect.Width, MaxWidth);
        for (int y = rect.Y; y < rect.Bottom; y += TightAreas.TileSize)
        {
            if (y - rect.Y >= maxRows)
            {
                // A piece's worth searched in vain: send it now, so the search never rescans it.
                EncodeSimple(rect with { Height = maxRows });
                rect = new PixelRect(rect.X, rect.Y + maxRows, rect.Width, rect.Height - maxRows);
            }

            int tileHeight = Math.Min(TightAreas.TileSize, rect.Bottom - y);
            for (int x = rect.X; x < rect.Right; x += TightAreas.TileSize)
            {
                var tile = new PixelRect(x, y, Math.Min(TightAreas.TileSize, rect.Right - x), tileHeight);
                int colours = TightAreas.CountUpToTwo(_screen, tile, out uint first, out uint second);
                if (colours > 2)
                {
                    continue;
                }

                PixelRect area = TightAreas.Grow(_screen, rect, tile, first, second);
                long size = (long)area.Width * area.Height;
                if (area != rect && size < (colours == 1 ? MinSolidPixels : MinTwoColourPixels))
                {
                    continue;
                }

                if (area.Y > rect.Y)
                {
                    EncodeSimple(new PixelRect(rect.X, rect.Y, rect.Width, area.Y - rect.Y));
                }

                if (area.X > rect.X)
                {
                    EncodeRegion(new PixelRect(rect.X, area.Y, area.X - rect.X, area.Height));
                }

                if (colours == 1)
                {
                    EncodeFillArea(area, first);
                }
                else
                {
                    EncodeSimple(area);
                }

                if (area.Right < rect.Right)
                {
                    EncodeRegion(new PixelRect(area.Right, area.Y, rect.Right - area.Right, area.Height));
                }

                if (area.Bottom < rect.Bottom)
                {
                    EncodeRegion(new PixelRect(rect.X, area.Bottom, rect.Width, rect.Bottom - area.Bottom));
                }

                return;
            }
        }

        EncodeSimple(rect);
    }

    /// <summary>A solid area as fills: one per 2048 columns, the widest a Tight rectangle may be; any height.</summary>
    private void EncodeFillArea(PixelRect area, uint colour)
    {
        for (int x = area.X; x < area.Right; x += MaxWidth)
        {
            WriteFill(new PixelRect(x, area.Y, Math.Min(MaxWidth, area.Right - x), area.Height), colour);
        }
    }

    /// <summary>Cuts <paramref name="rect"/> into pieces of at most 2048 pixels wide and 65536 pixels and sends each.</summary>
    private void EncodeSimple(PixelRect rect)
    {
        for (int x = rect.X; x < rect.Right; x += MaxWidth)
        {
            int width = Math.Min(MaxWidth, rect.Right - x);
            int linesPerPiece = Math.Max(1, MaxPixels / width);
            for (int y = rect.Y; y < rect.Bottom; y += linesPerPiece)
            {
                EncodePiece(new PixelRect(x, y, width, Math.Min(linesPerPiece, rect.Bottom - y)));
            }
        }
    }

    public void Dispose()
    {
        foreach (ZlibChannel stream in _streams)
        {
            stream.Dispose();
        }

        _data.Dispose();
        _compressed.Dispose();
    }
}
