namespace Platform.Engine.Vnc.Encoders;

/// <summary>
/// A baseline JPEG encoder (ITU T.81: sequential DCT, Huffman coding with the example tables of Annex K, YCbCr with
/// 2×2 chroma subsampling) for Tight's JPEG rectangles. Small on purpose: no restart markers, no progressive mode, no
/// optimised tables. Buffers are kept between images, so encoding allocates nothing once warm.
/// </summary>
internal sealed class JpegEncoder
{
    private const int BlockSize = 64;

    private static readonly byte[] ZigZag =
    [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
        35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
    ];

    // Annex K.1: the example quantisation tables, in natural (row-major) order.
    private static readonly byte[] LuminanceQuantisation =
    [
        16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
        18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
    ];

    private static readonly byte[] ChrominanceQuantisation =
    [
        17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
        99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    ];

    // Annex K.3: the example Huffman tables, as code counts per length (1–16) and symbols in code order.
    internal static readonly byte[] DcLuminanceCounts = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
    internal static readonly byte[] DcLuminanceSymbols = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    internal static readonly byte[] DcChrominanceCounts = [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
    internal static readonly byte[] DcChrominanceSymbols = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    internal static readonly byte[] AcLuminanceCounts = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D];
    internal static readonly byte[] AcLuminanceSymbols =
    [
        0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
        0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xA1, 0x08, 0x23, 0x42, 0xB1, 0xC1, 0x15, 0x52, 0xD1, 0xF0,
        0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0A, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x25, 0x26, 0x27, 0x28,
        0x29, 0x2A, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
        0x4A, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
        0x6A, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
        0x8A, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7,
        0xA8, 0xA9, 0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xC2, 0xC3, 0xC4, 0xC5,
        0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA, 0xE1, 0xE2,
        0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8,
        0xF9, 0xFA,
    ];

    internal static readonly byte[] AcChrominanceCounts = [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77];
    internal static readonly byte[] AcChrominanceSymbols =
    [
        0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
        0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xA1, 0xB1, 0xC1, 0x09, 0x23, 0x33, 0x52, 0xF0,
        0x15, 0x62, 0x72, 0xD1, 0x0A, 0x16, 0x24, 0x34, 0xE1, 0x25, 0xF1, 0x17, 0x18, 0x19, 0x1A, 0x26,
        0x27, 0x28, 0x29, 0x2A, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
        0x49, 0x4A, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
        0x69, 0x6A, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
        0x88, 0x89, 0x8A, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0xA2, 0xA3, 0xA4, 0xA5,
        0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xC2, 0xC3,
        0xC4, 0xC5, 0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA,
        0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8,
        0xF9, 0xFA,
    ];

    /// <summary>The 8-point DCT-II as a matrix: row u is 0.5·C(u)·cos((2x + 1)uπ/16).</summary>
    private static readonly float[] Cosines = BuildCosines();

    private static readonly HuffmanTable DcLuminance = new(DcLuminanceCounts, DcLuminanceSymbols);
    private static readonly HuffmanTable DcChrominance = new(DcChrominanceCounts, DcChrominanceSymbols);
    private static readonly HuffmanTable AcLuminance = new(AcLuminanceCounts, AcLuminanceSymbols);
    private static readonly HuffmanTable AcChrominance = new(AcChrominanceCounts, AcChrominanceSymbols);

    private readonly float[] _luminanceDivisors = new float[BlockSize];
    private readonly float[] _chrominanceDivisors = new float[BlockSize];
    private readonly byte[] _luminanceTable = new byte[BlockSize];    // zigzag order, as DQT carries it
    private readonly byte[] _chrominanceTable = new byte[BlockSize];
    private readonly float[] _y = new float[4 * BlockSize];
    private readonly float[] _cb = new float[BlockSize];
    private readonly float[] _cr = new float[BlockSize];
    private readonly float[] _scratch = new float[BlockSize];
    private readonly int[] _coefficients = new int[BlockSize];
    private int _quality = -1;
    private RfbBuffer _output = null!;
    private uint _bitBuffer;
    private int _bitCount;

    /// <summary>Writes <paramref name="rect"/> of <paramref name="screen"/> as a complete JPEG image at quality 1–100.</summary>
    public void Encode(ScreenPixels screen, PixelRect rect, int quality, RfbBuffer output)
    {
        SetQuality(Math.Clamp(quality, 1, 100));
        _output = output;
        WriteHeaders(rect.Width, rect.Height);
        _bitBuffer = 0;
        _bitCount = 0;
        int previousY = 0, previousCb = 0, previousCr = 0;
        for (int my = 0; my < rect.Height; my += 16)
        {
            for (int mx = 0; mx < rect.Width; mx += 16)
            {
                LoadMacroblock(screen, rect, mx, my);
                for (int block = 0; block < 4; block++)
                {
                    previousY = EncodeBlock(_y.AsSpan(block * BlockSize, BlockSize), _luminanceDivisors, previousY, DcLuminance, AcLuminance);
                }

                previousCb = EncodeBlock(_cb, _chrominanceDivisors, previousCb, DcChrominance, AcChrominance);
                previousCr = EncodeBlock(_cr, _chrominanceDivisors, previousCr, DcChrominance, AcChrominance);
            }
        }

        // Pad the last byte with ones, then End Of Image.
        if (_bitCount > 0)
        {
            int pad = 8 - _bitCount;
            WriteBits((1u << pad) - 1, pad);
        }

        _output.WriteByte(0xFF);
        _output.WriteByte(0xD9);
        _output = null!;
    }

    private void SetQuality(int quality)
    {
        if (quality == _quality)
        {
            return;
        }

        _quality = quality;
        // The IJG scaling of the Annex K tables.
        int scale = quality < 50 ? 5000 / quality : 200 - (quality * 2);
        for (int i = 0; i < BlockSize; i++)
        {
            int luminance = Math.Clamp(((LuminanceQuantisation[i] * scale) + 50) / 100, 1, 255);
            int chrominance = Math.Clamp(((ChrominanceQuantisation[i] * scale) + 50) / 100, 1, 255);
            _luminanceDivisors[i] = luminance;
            _chrominanceDivisors[i] = chrominance;
        }

        for (int k = 0; k < BlockSize; k++)
        {
            _luminanceTable[k] = (byte)_luminanceDivisors[ZigZag[k]];
            _chrominanceTable[k] = (byte)_chrominanceDivisors[ZigZag[k]];
        }
    }

    private void WriteHeaders(int width, int height)
    {
        RfbBuffer o = _output;
        o.WriteByte(0xFF);
        o.WriteByte(0xD8);                  // SOI

        o.WriteByte(0xFF);
        o.WriteByte(0xDB);                  // DQT: two 8-bit tables
        o.WriteUInt16(2 + (2 * (1 + BlockSize)));
        o.WriteByte(0);
        o.Write(_luminanceTable);
        o.WriteByte(1);
        o.Write(_chrominanceTable);

        o.WriteByte(0xFF);
        o.WriteByte(0xC0);                  // SOF0: baseline, 8-bit, three components
        o.WriteUInt16(8 + (3 * 3));
        o.WriteByte(8);
        o.WriteUInt16((ushort)height);
        o.WriteUInt16((ushort)width);
        o.WriteByte(3);
        o.WriteByte(1);
        o.WriteByte(0x22);                  // Y sampled 2×2
        o.WriteByte(0);
        o.WriteByte(2);
        o.WriteByte(0x11);
        o.WriteByte(1);
        o.WriteByte(3);
        o.WriteByte(0x11);
        o.WriteByte(1);

        WriteHuffmanTable(0x00, DcLuminanceCounts, DcLuminanceSymbols);
        WriteHuffmanTable(0x10, AcLuminanceCounts, AcLuminanceSymbols);
        WriteHuffmanTable(0x01, DcChrominanceCounts, DcChrominanceSymbols);
        WriteHuffmanTable(0x11, AcChrominanceCounts, AcChrominanceSymbols);

        o.WriteByte(0xFF);
        o.WriteByte(0xDA);                  // SOS: all three components, full spectral range
        o.WriteUInt16(6 + (2 * 3));
        o.WriteByte(3);
        o.WriteByte(1);
        o.WriteByte(0x00);
        o.WriteByte(2);
        o.WriteByte(0x11);
        o.WriteByte(3);
        o.WriteByte(0x11);
        o.WriteByte(0);
        o.WriteByte(63);
        o.WriteByte(0);
    }

    private void WriteHuffmanTable(byte classAndId, byte[] counts, byte[] symbols)
    {
        _output.WriteByte(0xFF);
        _output.WriteByte(0xC4);
        _output.WriteUInt16((ushort)(2 + 1 + 16 + symbols.Length));
        _output.WriteByte(classAndId);
        _output.Write(counts);
        _output.Write(symbols);
    }

    /// <summary>Converts a 16×16 macroblock to four Y blocks and averaged Cb, Cr blocks; edges repeat the last pixel.</summary>
    private void LoadMacroblock(ScreenPixels screen, PixelRect rect, int mx, int my)
    {
        _cb.AsSpan().Clear();
        _cr.AsSpan().Clear();
        for (int dy = 0; dy < 16; dy++)
        {
            int y = rect.Y + Math.Min(my + dy, rect.Height - 1);
            ReadOnlySpan<uint> line = screen.Line(rect.X, y, rect.Width);
            for (int dx = 0; dx < 16; dx++)
            {
                uint pixel = line[Math.Min(mx + dx, rect.Width - 1)];
                float r = (pixel >> 16) & 0xFF, g = (pixel >> 8) & 0xFF, b = pixel & 0xFF;
                int block = ((dy >> 3) * 2) + (dx >> 3);
                _y[(block * BlockSize) + ((dy & 7) * 8) + (dx & 7)] = (0.299f * r) + (0.587f * g) + (0.114f * b) - 128f;
                int c = ((dy >> 1) * 8) + (dx >> 1);
                _cb[c] += (-0.168736f * r) - (0.331264f * g) + (0.5f * b);
                _cr[c] += (0.5f * r) - (0.418688f * g) - (0.081312f * b);
            }
        }

        for (int i = 0; i < BlockSize; i++)
        {
            _cb[i] *= 0.25f;   // the average of four pixels; the +128 and -128 level shifts cancel
            _cr[i] *= 0.25f;
        }
    }

    /// <summary>DCT, quantisation and Huffman coding of one block; returns its DC value for the next block's prediction.</summary>
    private int EncodeBlock(Span<float> block, float[] divisors, int previousDc, HuffmanTable dc, HuffmanTable ac)
    {
        Span<float> rows = _scratch;
        // Rows: rows[u + 8y] = Σx cos[u][x] · block[x + 8y]; then columns into the coefficients.
        for (int y = 0; y < 8; y++)
        {
            for (int u = 0; u < 8; u++)
            {
                float sum = 0;
                for (int x = 0; x < 8; x++)
                {
                    sum += Cosines[(u * 8) + x] * block[(y * 8) + x];
                }

                rows[(y * 8) + u] = sum;
            }
        }

        for (int v = 0; v < 8; v++)
        {
            for (int u = 0; u < 8; u++)
            {
                float sum = 0;
                for (int y = 0; y < 8; y++)
                {
                    sum += Cosines[(v * 8) + y] * rows[(y * 8) + u];
                }

                int index = (v * 8) + u;
                _coefficients[index] = (int)MathF.Round(sum / divisors[index]);
            }
        }

        int dcValue = _coefficients[0];
        WriteCoded(dc, dcValue - previousDc, run: 0);
        int zeros = 0;
        for (int k = 1; k < BlockSize; k++)
        {
            int value = _coefficients[ZigZag[k]];
            if (value == 0)
            {
                zeros++;
                continue;
            }

            while (zeros >= 16)
            {
                ac.Write(this, 0xF0);   // ZRL: sixteen zeros
                zeros -= 16;
            }

            WriteCoded(ac, value, zeros);
            zeros = 0;
        }

        if (zeros > 0)
        {
            ac.Write(this, 0x00);   // EOB
        }

        return dcValue;
    }

    /// <summary>A value as (run, size category) through the table, then its size bits (negative values as one's complement).</summary>
    private void WriteCoded(HuffmanTable table, int value, int run)
    {
        int magnitude = Math.Abs(value);
        int size = magnitude == 0 ? 0 : 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)magnitude);
        table.Write(this, (run << 4) | size);
        if (size > 0)
        {
            int bits = value < 0 ? value + (1 << size) - 1 : value;
            WriteBits((uint)bits, size);
        }
    }

    private void WriteBits(uint bits, int count)
    {
        _bitBuffer = (_bitBuffer << count) | (bits & ((1u << count) - 1));
        _bitCount += count;
        while (_bitCount >= 8)
        {
            byte b = (byte)(_bitBuffer >> (_bitCount - 8));
            _output.WriteByte(b);
            if (b == 0xFF)
            {
                _output.WriteByte(0);   // byte stuffing: 0xFF in entropy-coded data is followed by 0x00
            }

            _bitCount -= 8;
        }
    }

    private static float[] BuildCosines()
    {
        var table = new float[BlockSize];
        for (int u = 0; u < 8; u++)
        {
            double scale = u == 0 ? Math.Sqrt(0.125) : 0.5;
            for (int x = 0; x < 8; x++)
            {
                table[(u * 8) + x] = (float)(scale * Math.Cos(((2 * x) + 1) * u * Math.PI / 16));
            }
        }

        return table;
    }

    /// <summary>The canonical codes (Annex C) of a table given as counts per length and symbols.</summary>
    private sealed class HuffmanTable
    {
        private readonly ushort[] _codes = new ushort[256];
        private readonly byte[] _lengths = new byte[256];

        public HuffmanTable(byte[] counts, byte[] symbols)
        {
            int code = 0, k = 0;
            for (int length = 1; length <= 16; length++)
            {
                for (int i = 0; i < counts[length - 1]; i++)
                {
                    _codes[symbols[k]] = (ushort)code;
                    _lengths[symbols[k]] = (byte)length;
                    code++;
                    k++;
                }

                code <<= 1;
            }
        }

        public void Write(JpegEncoder encoder, int symbol) => encoder.WriteBits(_codes[symbol], _lengths[symbol]);
    }
}
