namespace Platform.Engine.Vnc.Encoders;

/// <summary>The server's screen as encoders read it: 0x00RRGGBB pixels, <see cref="Width"/> per line.</summary>
internal readonly record struct ScreenPixels(uint[] Pixels, int Width)
{
    public ReadOnlySpan<uint> Line(int x, int y, int width) => Pixels.AsSpan((y * Width) + x, width);
}

/// <summary>Raw (encoding 0): the pixels as they are, in the client's format. Every client understands it.</summary>
internal static class RawEncoder
{
    public static void Encode(ScreenPixels screen, PixelRect rect, PixelTranslator translator, RfbBuffer output)
    {
        output.WriteRectangleHeader(rect.X, rect.Y, rect.Width, rect.Height, RfbEncoding.Raw);
        int lineBytes = rect.Width * translator.BytesPerPixel;
        for (int y = rect.Y; y < rect.Bottom; y++)
        {
            translator.WritePixels(screen.Line(rect.X, y, rect.Width), output.GetSpan(lineBytes));
            output.Advance(lineBytes);
        }
    }
}

/// <summary>CopyRect (encoding 1): the client copies pixels it already has from (sourceX, sourceY).</summary>
internal static class CopyRectEncoder
{
    public static void Encode(PixelRect destination, int sourceX, int sourceY, RfbBuffer output)
    {
        output.WriteRectangleHeader(destination.X, destination.Y, destination.Width, destination.Height, RfbEncoding.CopyRect);
        output.WriteUInt16((ushort)sourceX);
        output.WriteUInt16((ushort)sourceY);
    }
}
