namespace Platform.Engine.Vnc;

/// <summary>
/// A pointer shape for clients that draw the cursor themselves (the Cursor pseudo-encoding): pixels as 0x00RRGGBB
/// and a mask with one bit per pixel, rows padded to whole bytes, leftmost pixel in the high bit, 1 for opaque.
/// </summary>
public sealed class VncCursor
{
    public VncCursor(int width, int height, int hotspotX, int hotspotY, uint[] pixels, byte[] mask)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(mask);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(width, 256);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(height, 256);
        ArgumentOutOfRangeException.ThrowIfNotEqual(pixels.Length, width * height);
        ArgumentOutOfRangeException.ThrowIfNotEqual(mask.Length, (width + 7) / 8 * height);
        if (hotspotX < 0 || hotspotX >= width || hotspotY < 0 || hotspotY >= height)
        {
            throw new ArgumentOutOfRangeException(nameof(hotspotX), "The hotspot must lie inside the cursor.");
        }

        Width = width;
        Height = height;
        HotspotX = hotspotX;
        HotspotY = hotspotY;
        Pixels = pixels;
        Mask = mask;
    }

    /// <summary>A plain arrow, black with a white outline: shown until the guest has a pointer shape of its own.</summary>
    public static VncCursor Arrow { get; } = FromPicture(
        [
            "X...........",
            "XX..........",
            "X#X.........",
            "X##X........",
            "X###X.......",
            "X####X......",
            "X#####X.....",
            "X######X....",
            "X#######X...",
            "X########X..",
            "X#####XXXXX.",
            "X##X##X.....",
            "X#X.X##X....",
            "XX..X##X....",
            "X....X##X...",
            ".....X##X...",
            "......XX....",
        ],
        0,
        0);

    public int Width { get; }

    public int Height { get; }

    public int HotspotX { get; }

    public int HotspotY { get; }

    public IReadOnlyList<uint> Pixels { get; }

    public IReadOnlyList<byte> Mask { get; }

    /// <summary>Builds a cursor from rows of 'X' (white), '#' (black) and '.' (transparent).</summary>
    public static VncCursor FromPicture(string[] rows, int hotspotX, int hotspotY)
    {
        ArgumentNullException.ThrowIfNull(rows);
        int height = rows.Length, width = rows[0].Length;
        var pixels = new uint[width * height];
        var mask = new byte[(width + 7) / 8 * height];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                char c = rows[y][x];
                if (c == '.')
                {
                    continue;
                }

                pixels[(y * width) + x] = c == 'X' ? 0xFFFFFFu : 0u;
                mask[(y * ((width + 7) / 8)) + (x / 8)] |= (byte)(0x80 >> (x % 8));
            }
        }

        return new VncCursor(width, height, hotspotX, hotspotY, pixels, mask);
    }
}
