namespace Platform.Engine.Vnc.Encoders;

// One piece (at most 2048 wide, 65536 pixels): which subencoding, and its bytes (rfbproto "Tight Encoding").
internal sealed partial class TightEncoder
{
    private const int MinToCompress = 12;
    private const int StreamFullColour = 0;
    private const int StreamMono = 1;
    private const int StreamIndexed = 2;
    private const int StreamGradient = 3;
    private const byte ControlFill = 0x80;
    private const byte ControlJpeg = 0x90;
    private const byte ControlExplicitFilter = 0x40;
    private const byte FilterPalette = 1;
    private const byte FilterGradient = 2;
    /// <summary>Below this many pixels a JPEG's headers (about 600 bytes) outweigh what it saves.</summary>
    private const int MinJpegPixels = 4096;
    /// <summary>Below this many pixels the gradient filter's gain is too small to judge or to matter.</summary>
    private const int MinGradientPixels = 1024;
    /// <summary>JPEG tiles: a piece of photo and text is cut along these so the text stays lossless.</summary>
    private const int JpegTile = 64;
    /// <summary>The largest mean miss of the gradient predictor (per channel, 0–255) that is still a smooth picture.</summary>
    private const int PhotoMissThreshold = 40;
    /// <summary>The gradient filter is used when the predictor's mean error is at most this.</summary>
    private const int GradientErrorThreshold = 24;

    /// <summary>
    /// With JPEG on, more colours than this makes a photo-like area a picture (TurboVNC's palMaxColorsWithJPEG: 24 at
    /// its compression level 1, 96 at 2, 256 at 9); fewer stay a palette, which is exact and usually smaller.
    /// </summary>
    private int JpegPaletteLimit => _level <= 1 ? 24 : _level < 9 ? 96 : 256;

    private bool JpegAllowed => _jpegQuality > 0 && _translator.TightRgb;

    private void EncodePiece(PixelRect rect)
    {
        if (JpegAllowed && rect.Width * rect.Height >= MinJpegPixels)
        {
            EncodeMixed(rect);
            return;
        }

        EncodeSubrect(rect, allowJpeg: false);
    }

    /// <summary>
    /// With JPEG allowed: classes 64×64 tiles as photo (more colours than a palette holds, and smooth) or not, so text
    /// beside a picture stays sharp. A piece of one class goes whole; otherwise each run of same-class tiles in a tile
    /// row is its own rectangle, JPEG for photos and lossless for the rest.
    /// </summary>
    private void EncodeMixed(PixelRect rect)
    {
        int tilesX = (rect.Width + JpegTile - 1) / JpegTile, tilesY = (rect.Height + JpegTile - 1) / JpegTile;
        Span<bool> photo = tilesX * tilesY <= 2048 ? stackalloc bool[tilesX * tilesY] : new bool[tilesX * tilesY];
        int photos = 0;
        for (int ty = 0; ty < tilesY; ty++)
        {
            for (int tx = 0; tx < tilesX; tx++)
            {
                var tile = new PixelRect(
                    rect.X + (tx * JpegTile), rect.Y + (ty * JpegTile),
                    Math.Min(JpegTile, rect.Width - (tx * JpegTile)), Math.Min(JpegTile, rect.Height - (ty * JpegTile)));
                bool isPhoto = CountColours(tile, JpegPaletteLimit) > JpegPaletteLimit
                    && TightSmoothness.Measure(_screen, tile).IsPhotoLike(PhotoMissThreshold);
                photo[(ty * tilesX) + tx] = isPhoto;
                photos += isPhoto ? 1 : 0;
            }
        }

        if (photos == 0 || photos == photo.Length)
        {
            EncodeSubrect(rect, allowJpeg: photos > 0);
            return;
        }

        for (int ty = 0; ty < tilesY; ty++)
        {
            int y = rect.Y + (ty * JpegTile), height = Math.Min(JpegTile, rect.Bottom - y);
            int start = 0;
            for (int tx = 1; tx <= tilesX; tx++)
            {
                if (tx < tilesX && photo[(ty * tilesX) + tx] == photo[(ty * tilesX) + start])
                {
                    continue;
                }

                int x = rect.X + (start * JpegTile), right = Math.Min(rect.X + (tx * JpegTile), rect.Right);
                EncodeSubrect(new PixelRect(x, y, right - x, height), photo[(ty * tilesX) + start]);
                start = tx;
            }
        }
    }

    /// <summary>
    /// One rectangle, in the subencoding that suits it: one colour is a fill; a few colours a palette (two colours a
    /// bitmap), while the palette is smaller than the pixels it replaces; a photo-like area JPEG where
    /// <paramref name="allowJpeg"/>; a smooth true-colour area the gradient filter; anything else full colour.
    /// </summary>
    private void EncodeSubrect(PixelRect rect, bool allowJpeg)
    {
        int pixels = rect.Width * rect.Height;
        int limit = Math.Min(256, Math.Max(2, pixels / 4));
        if (allowJpeg)
        {
            limit = Math.Min(limit, JpegPaletteLimit);
        }

        int colours = CountColours(rect, limit);
        if (colours == 1)
        {
            WriteFill(rect, _palette.Colours[0]);
            return;
        }

        if (colours <= limit)
        {
            WritePalette(rect, colours);
        }
        else if (allowJpeg)
        {
            WriteJpeg(rect);
        }
        else if (_translator.TightRgb && pixels >= MinGradientPixels
            && TightSmoothness.Measure(_screen, rect).SuitsGradient(GradientErrorThreshold))
        {
            WriteGradient(rect);
        }
        else
        {
            WriteFullColour(rect);
        }
    }

    /// <summary>Distinct colours in <paramref name="rect"/>, counting no further than <paramref name="limit"/> + 1.</summary>
    private int CountColours(PixelRect rect, int limit)
    {
        _palette.Reset(limit);
        for (int y = rect.Y; y < rect.Bottom && _palette.Count <= limit; y++)
        {
            foreach (uint pixel in _screen.Line(rect.X, y, rect.Width))
            {
                if (!_palette.Add(pixel))
                {
                    break;
                }
            }
        }

        return _palette.Count;
    }

    /// <summary>The rectangle header and the control byte (no stream is ever reset: <see cref="ZlibChannel"/>); counts the rectangle.</summary>
    private void WriteControl(PixelRect rect, int control)
    {
        _output.WriteRectangleHeader(rect.X, rect.Y, rect.Width, rect.Height, RfbEncoding.Tight);
        _output.WriteByte((byte)control);
        _count++;
    }

    private void WriteFill(PixelRect rect, uint colour)
    {
        WriteControl(rect, ControlFill);
        WriteTightPixel(colour);
    }

    /// <summary>The palette filter: the colours, then one bit per pixel for two colours, one byte for more.</summary>
    private void WritePalette(PixelRect rect, int colours)
    {
        int stream = colours == 2 ? StreamMono : StreamIndexed;
        WriteControl(rect, (stream << 4) | ControlExplicitFilter);
        _output.WriteByte(FilterPalette);
        _output.WriteByte((byte)(colours - 1));
        foreach (uint colour in _palette.Colours)
        {
            WriteTightPixel(colour);
        }

        _data.Clear();
        if (colours == 2)
        {
            WriteMonoBitmap(rect);
        }
        else
        {
            for (int y = rect.Y; y < rect.Bottom; y++)
            {
                Span<byte> indexes = _data.GetSpan(rect.Width);
                ReadOnlySpan<uint> line = _screen.Line(rect.X, y, rect.Width);
                for (int i = 0; i < line.Length; i++)
                {
                    indexes[i] = (byte)_palette.IndexOf(line[i]);
                }

                _data.Advance(rect.Width);
            }
        }

        WriteData(stream);
    }

    /// <summary>Two colours: one bit per pixel (1 is palette entry 1), leftmost pixel in the high bit, rows padded.</summary>
    private void WriteMonoBitmap(PixelRect rect)
    {
        uint one = _palette.Colours[1];
        for (int y = rect.Y; y < rect.Bottom; y++)
        {
            ReadOnlySpan<uint> line = _screen.Line(rect.X, y, rect.Width);
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

    /// <summary>TPIXELs as they are: three bytes (r, g, b) for 24-bit colour clients, the client's pixels otherwise.</summary>
    private void WriteFullColour(PixelRect rect)
    {
        WriteControl(rect, StreamFullColour << 4);
        _data.Clear();
        int lineBytes = rect.Width * _translator.TightBytesPerPixel;
        for (int y = rect.Y; y < rect.Bottom; y++)
        {
            Span<byte> line = _data.GetSpan(lineBytes);
            ReadOnlySpan<uint> source = _screen.Line(rect.X, y, rect.Width);
            if (_translator.TightRgb)
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
                _translator.WritePixels(source, line);
            }

            _data.Advance(lineBytes);
        }

        WriteData(StreamFullColour);
    }

    /// <summary>
    /// The gradient filter, for 24-bit colour clients only (noVNC decodes it only for three-byte TPIXELs): each
    /// channel less its prediction, left + above − above-left clamped to 0–255, modulo 256. Outside the rectangle the
    /// neighbours count as zero, so the first line predicts from the left and the first column from above.
    /// </summary>
    private void WriteGradient(PixelRect rect)
    {
        WriteControl(rect, (StreamGradient << 4) | ControlExplicitFilter);
        _output.WriteByte(FilterGradient);
        _data.Clear();
        int lineBytes = rect.Width * 3;
        for (int y = rect.Y; y < rect.Bottom; y++)
        {
            ReadOnlySpan<uint> line = _screen.Line(rect.X, y, rect.Width);
            ReadOnlySpan<uint> above = y > rect.Y ? _screen.Line(rect.X, y - 1, rect.Width) : default;
            Span<byte> residuals = _data.GetSpan(lineBytes);
            for (int x = 0, o = 0; x < line.Length; x++)
            {
                uint pixel = line[x];
                uint left = x > 0 ? line[x - 1] : 0;
                uint up = above.IsEmpty ? 0 : above[x];
                uint upLeft = above.IsEmpty || x == 0 ? 0 : above[x - 1];
                for (int shift = 16; shift >= 0; shift -= 8, o++)
                {
                    int predicted = (int)((left >> shift) & 0xFF) + (int)((up >> shift) & 0xFF) - (int)((upLeft >> shift) & 0xFF);
                    residuals[o] = (byte)((int)((pixel >> shift) & 0xFF) - Math.Clamp(predicted, 0, 255));
                }
            }

            _data.Advance(lineBytes);
        }

        WriteData(StreamGradient);
    }

    private void WriteJpeg(PixelRect rect)
    {
        WriteControl(rect, ControlJpeg);
        _data.Clear();
        _jpeg ??= new JpegEncoder();
        _jpeg.Encode(_screen, rect, _jpegQuality, _data);
        WriteCompactLength(_data.Length);
        _output.Write(_data.WrittenSpan);
    }

    /// <summary>Short data as it is; the rest as a compact length and that stream's zlib output, sync-flushed.</summary>
    private void WriteData(int stream)
    {
        if (_data.Length < MinToCompress)
        {
            _output.Write(_data.WrittenSpan);
            return;
        }

        _compressed.Clear();
        ZlibChannel channel = _streams[stream];
        channel.Write(_data.WrittenSpan, _compressed);
        channel.Flush(_compressed);
        WriteCompactLength(_compressed.Length);
        _output.Write(_compressed.WrittenSpan);
    }

    /// <summary>Tight's 1–3 byte length: 7 bits per byte, low bits first, the high bit saying another byte follows.</summary>
    private void WriteCompactLength(int length)
    {
        _output.WriteByte((byte)((length & 0x7F) | (length > 0x7F ? 0x80 : 0)));
        if (length > 0x7F)
        {
            _output.WriteByte((byte)(((length >> 7) & 0x7F) | (length > 0x3FFF ? 0x80 : 0)));
            if (length > 0x3FFF)
            {
                _output.WriteByte((byte)(length >> 14));
            }
        }
    }

    private void WriteTightPixel(uint colour) => _output.Advance(_translator.WriteTightPixel(colour, _output.GetSpan(4)));
}
