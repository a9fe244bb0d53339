using System.Buffers.Binary;

namespace Platform.Engine.Vnc;

/// <summary>An RFB PIXEL_FORMAT (RFC 6143 §7.4): how a client wants pixel values laid out on the wire.</summary>
public readonly record struct PixelFormat(
    byte BitsPerPixel,
    byte Depth,
    bool BigEndian,
    bool TrueColour,
    ushort RedMax,
    ushort GreenMax,
    ushort BlueMax,
    byte RedShift,
    byte GreenShift,
    byte BlueShift)
{
    /// <summary>The wire size of a PIXEL_FORMAT, padding included.</summary>
    public const int Size = 16;

    /// <summary>What the server offers in ServerInit: 32-bit little-endian x8r8g8b8, the std-vga's own layout.</summary>
    public static PixelFormat Native { get; } = new(32, 24, false, true, 255, 255, 255, 16, 8, 0);

    /// <summary>Bytes per pixel on the wire (1, 2 or 4).</summary>
    public int BytesPerPixel => BitsPerPixel / 8;

    /// <summary>
    /// True when the format is one we can produce: 8, 16 or 32 bits per pixel and, for true colour, each channel's
    /// maximum a run of low bits (2^n - 1, n ≤ 16) whose field, shifted, fits in the pixel. Colour-map formats need
    /// only a valid size: we then send a fixed 3-3-2 colour map.
    /// </summary>
    public bool IsSupported
    {
        get
        {
            if (BitsPerPixel is not (8 or 16 or 32))
            {
                return false;
            }

            return !TrueColour
                || (FieldFits(RedMax, RedShift) && FieldFits(GreenMax, GreenShift) && FieldFits(BlueMax, BlueShift));
        }
    }

    private bool FieldFits(ushort max, byte shift)
    {
        if ((max & (max + 1)) != 0)
        {
            return false; // not 2^n - 1
        }

        int bits = 32 - System.Numerics.BitOperations.LeadingZeroCount(max);
        return shift + bits <= BitsPerPixel;
    }

    public static PixelFormat Parse(ReadOnlySpan<byte> data) => new(
        data[0],
        data[1],
        data[2] != 0,
        data[3] != 0,
        BinaryPrimitives.ReadUInt16BigEndian(data[4..]),
        BinaryPrimitives.ReadUInt16BigEndian(data[6..]),
        BinaryPrimitives.ReadUInt16BigEndian(data[8..]),
        data[10],
        data[11],
        data[12]);

    public void WriteTo(Span<byte> destination)
    {
        destination[0] = BitsPerPixel;
        destination[1] = Depth;
        destination[2] = BigEndian ? (byte)1 : (byte)0;
        destination[3] = TrueColour ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt16BigEndian(destination[4..], RedMax);
        BinaryPrimitives.WriteUInt16BigEndian(destination[6..], GreenMax);
        BinaryPrimitives.WriteUInt16BigEndian(destination[8..], BlueMax);
        destination[10] = RedShift;
        destination[11] = GreenShift;
        destination[12] = BlueShift;
        destination[13..16].Clear();
    }
}
