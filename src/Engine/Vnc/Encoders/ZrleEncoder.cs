namespace Platform.Engine.Vnc.Encoders;

/// <summary>
/// ZRLE (encoding 16, RFC 6143 §7.7.6): 64×64 tiles, each as whichever of raw, solid, packed palette, plain RLE or
/// palette RLE is smallest, all through one zlib stream per connection that is sync-flushed at the end of each
/// rectangle. One instance per connection: it owns that connection's stream.
/// </summary>
internal sealed class ZrleEncoder : IDisposable
{
    private const int TileSize = 64;
    private const int MaxPalette = 127;

    private readonly ZlibChannel _zlib = new();
    private readonly ColourPalette _palette = new();
    private readonly RfbBuffer _tile = new(TileSize * TileSize * 4 + 1024);
    private readonly uint[] _pixels = new uint[TileSize * TileSize];

    /// <summary>Sets the zlib level from the next tile on; the one stream goes on (<see cref="ZlibChannel.SetLevel"/>).</summary>
    public void SetLevel(int level) => _zlib.SetLevel(level);

    public void Encode(ScreenPixels screen, PixelRect rect, PixelTranslator translator, RfbBuffer output)
    {
        output.WriteRectangleHeader(rect.X, rect.Y, rect.Width, rect.Height, RfbEncoding.Zrle);
        int lengthAt = output.Length;
        output.WriteUInt32(0);
        for (int ty = rect.Y; ty < rect.Bottom; ty += TileSize)
        {
            int th = Math.Min(TileSize, rect.Bottom - ty);
            for (int tx = rect.X; tx < rect.Right; tx += TileSize)
            {
                int tw = Math.Min(TileSize, rect.Right - tx);
                _tile.Clear();
                EncodeTile(screen, tx, ty, tw, th, translator);
                _zlib.Write(_tile.WrittenSpan, output);
            }
        }

        _zlib.Flush(output);
        output.PatchUInt32(lengthAt, (uint)(output.Length - lengthAt - 4));
    }

    private void EncodeTile(ScreenPixels screen, int x, int y, int width, int height, PixelTranslator translator)
    {
        int count = width * height;
        Span<uint> pixels = _pixels.AsSpan(0, count);
        for (int row = 0; row < height; row++)
        {
            screen.Line(x, y + row, width).CopyTo(pixels.Slice(row * width, width));
        }

        // One pass: the palette (up to 127 colours) and the cost of both run-length forms.
        int cpp = translator.CompactBytesPerPixel;
        _palette.Reset(MaxPalette);
        long plainRle = 0, paletteRle = 0;
        int runStart = 0;
        for (int i = 1; i <= count; i++)
        {
            if (i < count && pixels[i] == pixels[runStart])
            {
                continue;
            }

            int run = i - runStart;
            _palette.Add(pixels[runStart]);
            plainRle += cpp + RunLengthBytes(run);
            paletteRle += run == 1 ? 1 : 1 + RunLengthBytes(run);
            runStart = i;
        }

        int colours = _palette.Count;
        if (colours == 1)
        {
            _tile.WriteByte(1);
            WriteCompact(pixels[0], translator);
            return;
        }

        long raw = (long)count * cpp;
        long best = raw;
        int choice = 0; // 0 raw, 1 packed palette, 2 plain RLE, 3 palette RLE
        if (colours <= 16)
        {
            int bits = colours == 2 ? 1 : colours <= 4 ? 2 : 4;
            long packed = (colours * cpp) + ((long)((width * bits) + 7) / 8 * height);
            if (packed < best)
            {
                best = packed;
                choice = 1;
            }
        }

        if (plainRle < best)
        {
            best = plainRle;
            choice = 2;
        }

        if (colours <= MaxPalette && (colours * cpp) + paletteRle < best)
        {
            choice = 3;
        }

        switch (choice)
        {
            case 0:
                _tile.WriteByte(0);
                for (int i = 0; i < count; i++)
                {
                    WriteCompact(pixels[i], translator);
                }

                break;
            case 1:
                WritePackedPalette(pixels, width, height, colours, translator);
                break;
            case 2:
                _tile.WriteByte(128);
                WriteRuns(pixels, translator, palette: false);
                break;
            default:
                _tile.WriteByte((byte)(128 + colours));
                WritePalette(translator);
                WriteRuns(pixels, translator, palette: true);
                break;
        }
    }

    private void WritePackedPalette(ReadOnlySpan<uint> pixels, int width, int height, int colours, PixelTranslator translator)
    {
        _tile.WriteByte((byte)colours);
        WritePalette(translator);
        int bits = colours == 2 ? 1 : colours <= 4 ? 2 : 4;
        for (int row = 0; row < height; row++)
        {
            int accumulator = 0, filled = 0;
            for (int col = 0; col < width; col++)
            {
                accumulator = (accumulator << bits) | _palette.IndexOf(pixels[(row * width) + col]);
                filled += bits;
                if (filled == 8)
                {
                    _tile.WriteByte((byte)accumulator);
                    accumulator = 0;
                    filled = 0;
                }
            }

            if (filled > 0)
            {
                _tile.WriteByte((byte)(accumulator << (8 - filled)));   // leftmost pixel in the high bits, row padded
            }
        }
    }

    private void WriteRuns(ReadOnlySpan<uint> pixels, PixelTranslator translator, bool palette)
    {
        int runStart = 0;
        for (int i = 1; i <= pixels.Length; i++)
        {
            if (i < pixels.Length && pixels[i] == pixels[runStart])
            {
                continue;
            }

            int run = i - runStart;
            if (palette)
            {
                int index = _palette.IndexOf(pixels[runStart]);
                if (run == 1)
                {
                    _tile.WriteByte((byte)index);
                    runStart = i;
                    continue;
                }

                _tile.WriteByte((byte)(index | 128));
            }
            else
            {
                WriteCompact(pixels[runStart], translator);
            }

            // Run length - 1 as 255s and a final byte below 255.
            int remaining = run - 1;
            while (remaining >= 255)
            {
                _tile.WriteByte(255);
                remaining -= 255;
            }

            _tile.WriteByte((byte)remaining);
            runStart = i;
        }
    }

    private void WritePalette(PixelTranslator translator)
    {
        foreach (uint colour in _palette.Colours)
        {
            WriteCompact(colour, translator);
        }
    }

    private void WriteCompact(uint colour, PixelTranslator translator)
    {
        int written = translator.WriteCompactPixel(colour, _tile.GetSpan(4));
        _tile.Advance(written);
    }

    private static int RunLengthBytes(int run) => ((run - 1) / 255) + 1;

    public void Dispose()
    {
        _zlib.Dispose();
        _tile.Dispose();
    }
}
