using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Platform.Engine.Vnc;

/// <summary>
/// Turns the server's 0x00RRGGBB pixels into one client's pixel format: per-channel lookup tables built once per
/// SetPixelFormat, then one OR of three table entries per pixel. Also knows the compact pixel forms of ZRLE
/// (CPIXEL) and Tight (TPIXEL). Immutable: a SetPixelFormat builds a new one, so an update being encoded keeps
/// the format it started with.
/// </summary>
internal sealed class PixelTranslator
{
    private readonly uint[] _red = new uint[256];
    private readonly uint[] _green = new uint[256];
    private readonly uint[] _blue = new uint[256];
    private readonly bool _compactHigh;   // a 3-byte CPIXEL is the pixel's high three bytes, not its low three

    public PixelTranslator(PixelFormat format)
    {
        Format = format;
        BytesPerPixel = format.BytesPerPixel;
        // Without true colour we send the fixed 3-3-2 colour map of ColourMap below: red in bits 5-7, green 2-4, blue 0-1.
        PixelFormat effective = format.TrueColour ? format : format with { RedMax = 7, GreenMax = 7, BlueMax = 3, RedShift = 5, GreenShift = 2, BlueShift = 0 };
        for (int c = 0; c < 256; c++)
        {
            _red[c] = Scale(c, effective.RedMax) << effective.RedShift;
            _green[c] = Scale(c, effective.GreenMax) << effective.GreenShift;
            _blue[c] = Scale(c, effective.BlueMax) << effective.BlueShift;
        }

        IsIdentity = format == PixelFormat.Native && BitConverter.IsLittleEndian;

        // ZRLE's CPIXEL: 3 bytes when a 32-bit true-colour pixel has all colour bits in its low or high three bytes.
        uint used = ((uint)effective.RedMax << effective.RedShift)
            | ((uint)effective.GreenMax << effective.GreenShift)
            | ((uint)effective.BlueMax << effective.BlueShift);
        if (format.TrueColour && format.BitsPerPixel == 32 && format.Depth <= 24)
        {
            if ((used & 0xFF000000) == 0)
            {
                CompactBytesPerPixel = 3;
                _compactHigh = false;
            }
            else if ((used & 0x000000FF) == 0)
            {
                CompactBytesPerPixel = 3;
                _compactHigh = true;
            }
            else
            {
                CompactBytesPerPixel = 4;
            }
        }
        else
        {
            CompactBytesPerPixel = BytesPerPixel;
        }

        // Tight's TPIXEL: r, g, b bytes for 32-bit depth-24 true colour with 8-bit channels.
        TightRgb = format.TrueColour && format.BitsPerPixel == 32 && format.Depth == 24
            && format.RedMax == 255 && format.GreenMax == 255 && format.BlueMax == 255;
        TightBytesPerPixel = TightRgb ? 3 : BytesPerPixel;
    }

    public PixelFormat Format { get; }

    public int BytesPerPixel { get; }

    /// <summary>True when client pixels are the server's bytes as they are (32-bit little-endian x8r8g8b8).</summary>
    public bool IsIdentity { get; }

    /// <summary>Bytes of a ZRLE CPIXEL.</summary>
    public int CompactBytesPerPixel { get; }

    /// <summary>True when a Tight TPIXEL is the three bytes r, g, b.</summary>
    public bool TightRgb { get; }

    /// <summary>Bytes of a Tight TPIXEL.</summary>
    public int TightBytesPerPixel { get; }

    /// <summary>The pixel value (before byte order) for one server pixel.</summary>
    public uint Translate(uint xrgb) => _red[(xrgb >> 16) & 0xFF] | _green[(xrgb >> 8) & 0xFF] | _blue[xrgb & 0xFF];

    /// <summary>Writes <paramref name="source"/> as client pixels; <paramref name="destination"/> holds BytesPerPixel each.</summary>
    public void WritePixels(ReadOnlySpan<uint> source, Span<byte> destination)
    {
        if (IsIdentity)
        {
            MemoryMarshal.AsBytes(source).CopyTo(destination);
            return;
        }

        switch (BytesPerPixel)
        {
            case 1:
                for (int i = 0; i < source.Length; i++)
                {
                    destination[i] = (byte)Translate(source[i]);
                }

                break;
            case 2:
                for (int i = 0; i < source.Length; i++)
                {
                    WriteUInt16(destination[(i * 2)..], (ushort)Translate(source[i]));
                }

                break;
            default:
                for (int i = 0; i < source.Length; i++)
                {
                    WriteUInt32(destination[(i * 4)..], Translate(source[i]));
                }

                break;
        }
    }

    /// <summary>Writes one client pixel; returns the bytes written.</summary>
    public int WritePixel(uint xrgb, Span<byte> destination)
    {
        uint value = Translate(xrgb);
        switch (BytesPerPixel)
        {
            case 1:
                destination[0] = (byte)value;
                return 1;
            case 2:
                WriteUInt16(destination, (ushort)value);
                return 2;
            default:
                WriteUInt32(destination, value);
                return 4;
        }
    }

    /// <summary>Writes one ZRLE CPIXEL; returns the bytes written.</summary>
    public int WriteCompactPixel(uint xrgb, Span<byte> destination)
    {
        if (CompactBytesPerPixel != 3)
        {
            return WritePixel(xrgb, destination);
        }

        uint value = Translate(xrgb);
        if (_compactHigh)
        {
            value >>= 8;
        }

        // The three bytes keep the pixel's byte order: least significant first for a little-endian client.
        if (Format.BigEndian)
        {
            destination[0] = (byte)(value >> 16);
            destination[1] = (byte)(value >> 8);
            destination[2] = (byte)value;
        }
        else
        {
            destination[0] = (byte)value;
            destination[1] = (byte)(value >> 8);
            destination[2] = (byte)(value >> 16);
        }

        return 3;
    }

    /// <summary>Writes one Tight TPIXEL; returns the bytes written.</summary>
    public int WriteTightPixel(uint xrgb, Span<byte> destination)
    {
        if (!TightRgb)
        {
            return WritePixel(xrgb, destination);
        }

        destination[0] = (byte)(xrgb >> 16);
        destination[1] = (byte)(xrgb >> 8);
        destination[2] = (byte)xrgb;
        return 3;
    }

    /// <summary>The SetColourMapEntries body for colour-map clients: 256 entries of the 3-3-2 map, 16-bit channels.</summary>
    public static void WriteColourMap(RfbBuffer output)
    {
        for (int i = 0; i < 256; i++)
        {
            output.WriteUInt16((ushort)(Expand((i >> 5) & 7, 7) * 257));
            output.WriteUInt16((ushort)(Expand((i >> 2) & 7, 7) * 257));
            output.WriteUInt16((ushort)(Expand(i & 3, 3) * 257));
        }
    }

    private static int Expand(int value, int max) => ((value * 255) + (max / 2)) / max;

    /// <summary>
    /// An 8-bit component scaled to 0..max. For 2^n - 1 maxima this keeps the top n bits, what every VNC server does,
    /// so a client that widens by bit replication gets back values within one quantum.
    /// </summary>
    private static uint Scale(int component, ushort max)
    {
        if (max == 0)
        {
            return 0;
        }

        int bits = 32 - System.Numerics.BitOperations.LeadingZeroCount(max);
        if (bits <= 8)
        {
            return (uint)component >> (8 - bits);
        }

        // Wider than 8 bits: replicate the component's top bits into the new low bits (0xAB -> 0xABAB for 16 bits).
        uint wide = ((uint)component << (bits - 8)) | ((uint)component >> (16 - bits));
        return wide & max;
    }

    private void WriteUInt16(Span<byte> destination, ushort value)
    {
        if (Format.BigEndian)
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination, value);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(destination, value);
        }
    }

    private void WriteUInt32(Span<byte> destination, uint value)
    {
        if (Format.BigEndian)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination, value);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(destination, value);
        }
    }
}
