namespace Platform.Engine.Vnc.Encoders;

/// <summary>
/// Tight (encoding 7) without JPEG: each rectangle, cut to at most 2048 pixels wide and 65536 pixels, goes as a fill
/// (one colour), a two-colour bitmap (zlib stream 1), an indexed palette of up to 256 colours (stream 2) or full
/// colour (stream 0). Data under 12 bytes goes uncompressed, as the format requires; the rest through the stream's
/// persistent zlib state, sync-flushed per rectangle. TPIXELs are three bytes (r, g, b) for 24-bit colour clients.
/// One instance per connection: it owns that connection's four streams.
/// </summary>
internal sealed class TightEncoder : IDisposable
{
    private const int MaxWidth = 2048;
    private const int MaxPixels = 65536;
    private const int MinToCompress = 12;
    private const int StreamFullColour = 0;
    private const int StreamMono = 1;
    private const int StreamIndexed = 2;
    private const byte ControlFill = 0x80;
    private const byte ControlJpeg = 0x90;
    /// <summary>Below this many pixels a JPEG's headers (about 600 bytes) outweigh what it saves.</summary>
    private const int MinJpegPixels = 4096;
    /// <summary>A 64×64 tile with more colours than this is a picture (JPEG); fewer is text or drawing (lossless).</summary>
    private const int PhotoColours = 64;
    private const byte ControlExplicitFilter = 0x40;
    private const byte FilterPalette = 1;

    private readonly ZlibChannel[] _streams = [new(), new(), new(), new()];
    private readonly ColourPalette _palette = new();
    private JpegEncoder? _jpeg;
    private int _jpegQuality = -1;
    private readonly RfbBuffer _data = new(MaxPixels * 4);
    private readonly RfbBuffer _compressed = new(MaxPixels);
    private int _resetPending;   // streams the client must reset before the next rectangle (bit n: stream n)

    /// <summary>Applies a compression level (0–9) from the client; streams whose level changes start over.</summary>
    public void SetLevel(int level)
    {
        int zlibLevel = Math.Clamp(level, 1, 9);
        for (int i = 0; i < _streams.Length; i++)
        {
            if (_streams[i].EnsureLevel(zlibLevel))
            {
                _resetPending |= 1 << i;
            }
        }
    }

    /// <summary>
    /// Applies the client's JPEG quality level (0–9), or -1 when it sent none: then everything stays lossless. With a
    /// level, full-colour areas of 24-bit clients go as JPEG; few-colour areas (text) stay palettes either way.
    /// </summary>
    public void SetQuality(int level) =>
        _jpegQuality = level < 0 ? -1 : JpegQualities[Math.Min(level, JpegQualities.Length - 1)];

    private static readonly int[] JpegQualities = [15, 25, 35, 45, 55, 65, 75, 80, 88, 95];

    /// <summary>Encodes <paramref name="rect"/> as one or more Tight rectangles; returns how many.</summary>
    public int Encode(ScreenPixels screen, PixelRect rect, PixelTranslator translator, RfbBuffer output)
    {
        int count = 0;
        for (int x = rect.X; x < rect.Right; x += MaxWidth)
        {
            int width = Math.Min(MaxWidth, rect.Right - x);
            int linesPerPiece = Math.Max(1, MaxPixels / width);
            for (int y = rect.Y; y < rect.Bottom; y += linesPerPiece)
            {
                int height = Math.Min(linesPerPiece, rect.Bottom - y);
                count += EncodePiece(screen, new PixelRect(x, y, width, height), translator, output);
            }
        }

        return count;
    }

    /// <summary>One piece of at most 65536 pixels; returns the rectangles written.</summary>
    private int EncodePiece(ScreenPixels screen, PixelRect rect, PixelTranslator translator, RfbBuffer output)
    {
        if (_jpegQuality > 0 && translator.TightRgb && rect.Width * rect.Height >= MinJpegPixels)
        {
            return EncodeMixed(screen, rect, translator, output);
        }

        EncodeRect(screen, rect, translator, output, allowJpeg: false);
        return 1;
    }

    /// <summary>
    /// With JPEG allowed: classes 64×64 tiles as photo (more than <see cref="PhotoColours"/> colours) or not, so text
    /// beside a picture stays sharp. A piece of one class goes whole; otherwise each run of same-class tiles in a tile
    /// row is its own rectangle, JPEG for photos and lossless for the rest.
    /// </summary>
    private int EncodeMixed(ScreenPixels screen, PixelRect rect, PixelTranslator translator, RfbBuffer output)
    {
        const int Tile = 64;
        int tilesX = (rect.Width + Tile - 1) / Tile, tilesY = (rect.Height + Tile - 1) / Tile;
        Span<bool> photo = tilesX * tilesY <= 2048 ? stackalloc bool[tilesX * tilesY] : new bool[tilesX * tilesY];
        int photos = 0;
        for (int ty = 0; ty < tilesY; ty++)
        {
            for (int tx = 0; tx < tilesX; tx++)
            {
                var tile = new PixelRect(rect.X + (tx * Tile), rect.Y + (ty * Tile), Math.Min(Tile, rect.Width - (tx * Tile)), Math.Min(Tile, rect.Height - (ty * Tile)));
                bool isPhoto = CountColours(screen, tile, PhotoColours) > PhotoColours;
                photo[(ty * tilesX) + tx] = isPhoto;
                photos += isPhoto ? 1 : 0;
            }
        }

        if (photos == 0 || photos == photo.Length)
        {
            EncodeRect(screen, rect, translator, output, allowJpeg: photos > 0);
            return 1;
        }

        int count = 0;
        for (int ty = 0; ty < tilesY; ty++)
        {
            int y = rect.Y + (ty * Tile), height = Math.Min(Tile, rect.Bottom - y);
            int start = 0;
            for (int tx = 1; tx <= tilesX; tx++)
            {
                if (tx < tilesX && photo[(ty * tilesX) + tx] == photo[(ty * tilesX) + start])
                {
                    continue;
                }

                int x = rect.X + (start * Tile), right = Math.Min(rect.X + (tx * Tile), rect.Right);
                EncodeRect(screen, new PixelRect(x, y, right - x, height), translator, output, photo[(ty * tilesX) + start]);
                count++;
                start = tx;
            }
        }

        return count;
    }

    /// <summary>Distinct colours in <paramref name="rect"/>, counting no further than <paramref name="limit"/> + 1.</summary>
    private int CountColours(ScreenPixels screen, PixelRect rect, int limit)
    {
        _palette.Reset(limit);
        for (int y = rect.Y; y < rect.Bottom && _palette.Count <= limit; y++)
        {
            foreach (uint pixel in screen.Line(rect.X, y, rect.Width))
            {
                if (!_palette.Add(pixel))
                {
                    break;
                }
            }
        }

        return _palette.Count;
    }

    private void EncodeRect(ScreenPixels screen, PixelRect rect, PixelTranslator translator, RfbBuffer output, bool allowJpeg)
    {
        output.WriteRectangleHeader(rect.X, rect.Y, rect.Width, rect.Height, RfbEncoding.Tight);
        int pixels = rect.Width * rect.Height;
        int tpp = translator.TightBytesPerPixel;

        // A palette pays while it is smaller than the pixels it replaces; past 256 colours Tight has no palette.
        int limit = Math.Min(256, Math.Max(2, pixels / 4));
        int colours = CountColours(screen, rect, limit);
        byte resets = (byte)_resetPending;
        _resetPending = 0;
        if (colours == 1)
        {
            output.WriteByte((byte)(ControlFill | resets));
            WriteTightPixel(_palette.Colours[0], translator, output);
            return;
        }

        _data.Clear();
        if (allowJpeg && colours > limit)
        {
            _jpeg ??= new JpegEncoder();
            _jpeg.Encode(screen, rect, _jpegQuality, _data);
            output.WriteByte((byte)(ControlJpeg | resets));
            WriteCompactLength(_data.Length, output);
            output.Write(_data.WrittenSpan);
            return;
        }

        int stream;
        if (colours <= limit)
        {
            stream = colours == 2 ? StreamMono : StreamIndexed;
            output.WriteByte((byte)((stream << 4) | ControlExplicitFilter | resets));
            output.WriteByte(FilterPalette);
            output.WriteByte((byte)(colours - 1));
            foreach (uint colour in _palette.Colours)
            {
                WriteTightPixel(colour, translator, output);
            }

            if (colours == 2)
            {
                WriteMonoBitmap(screen, rect);
            }
            else
            {
                for (int y = rect.Y; y < rect.Bottom; y++)
                {
                    foreach (uint pixel in screen.Line(rect.X, y, rect.Width))
                    {
                        _data.WriteByte((byte)_palette.IndexOf(pixel));
                    }
                }
            }
        }
        else
        {
            stream = StreamFullColour;
            output.WriteByte((byte)((stream << 4) | resets));
            int lineBytes = rect.Width * tpp;
            for (int y = rect.Y; y < rect.Bottom; y++)
            {
                Span<byte> line = _data.GetSpan(lineBytes);
                ReadOnlySpan<uint> source = screen.Line(rect.X, y, rect.Width);
                if (translator.TightRgb)
                {
                    for (int i = 0, o = 0; i < source.Length; i++, o += 3)
                    {
                        uint pixel = source[i];
                        line[o] = (byte)(pixel >> 16);
                        line[o + 1] = (byte)(pixel >> 8);
                        line[o + 2] = (byte)pixel;
                    }
                }
                else
                {
                    translator.WritePixels(source, line);
                }

                _data.Advance(lineBytes);
            }
        }

        WriteData(stream, output);
    }

    /// <summary>Two colours: one bit per pixel (1 is palette entry 1), leftmost pixel in the high bit, rows padded.</summary>
    private void WriteMonoBitmap(ScreenPixels screen, PixelRect rect)
    {
        uint one = _palette.Colours[1];
        for (int y = rect.Y; y < rect.Bottom; y++)
        {
            ReadOnlySpan<uint> line = screen.Line(rect.X, y, rect.Width);
            int accumulator = 0, filled = 0;
            foreach (uint pixel in line)
            {
                accumulator = (accumulator << 1) | (pixel == one ? 1 : 0);
                if (++filled == 8)
                {
                    _data.WriteByte((byte)accumulator);
                    accumulator = filled = 0;
                }
            }

            if (filled > 0)
            {
                _data.WriteByte((byte)(accumulator << (8 - filled)));
            }
        }
    }

    /// <summary>Short data as it is; the rest as a compact length and that stream's zlib output.</summary>
    private void WriteData(int stream, RfbBuffer output)
    {
        if (_data.Length < MinToCompress)
        {
            output.Write(_data.WrittenSpan);
            return;
        }

        _compressed.Clear();
        ZlibChannel channel = _streams[stream];
        channel.Write(_data.WrittenSpan, _compressed);
        channel.Flush(_compressed);
        WriteCompactLength(_compressed.Length, output);
        output.Write(_compressed.WrittenSpan);
    }

    /// <summary>Tight's 1–3 byte length: 7 bits per byte, low bits first, the high bit saying another byte follows.</summary>
    private static void WriteCompactLength(int length, RfbBuffer output)
    {
        output.WriteByte((byte)((length & 0x7F) | (length > 0x7F ? 0x80 : 0)));
        if (length > 0x7F)
        {
            output.WriteByte((byte)(((length >> 7) & 0x7F) | (length > 0x3FFF ? 0x80 : 0)));
            if (length > 0x3FFF)
            {
                output.WriteByte((byte)(length >> 14));
            }
        }
    }

    private static void WriteTightPixel(uint colour, PixelTranslator translator, RfbBuffer output)
    {
        int written = translator.WriteTightPixel(colour, output.GetSpan(4));
        output.Advance(written);
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
