namespace Platform.Engine.Vnc.Encoders;

/// <summary>
/// Finds large areas of one colour (sent as a Tight fill) or of two colours (a one-bit bitmap) inside a changed
/// rectangle, so the rest around them can be cut into rectangles of their own. The search is the one TightVNC's
/// encoders (and QEMU's, "find best solid area") use for solid areas: start at a 16×16 tile, grow tile by tile right
/// and then down while the tiles stay within the colours, keep the largest rectangle seen, then widen it line by line
/// on all four sides. Two-colour areas are the same search with a set of two colours: text on a plain background.
/// </summary>
internal static class TightAreas
{
    public const int TileSize = 16;

    /// <summary>
    /// How many colours <paramref name="rect"/> has, counting to three: 1 or 2 with them in <paramref name="first"/>
    /// and <paramref name="second"/> (equal when one), or 3 for "more than two".
    /// </summary>
    public static int CountUpToTwo(ScreenPixels screen, PixelRect rect, out uint first, out uint second)
    {
        first = screen.Line(rect.X, rect.Y, 1)[0];
        second = first;
        int count = 1;
        for (int y = rect.Y; y < rect.Bottom; y++)
        {
            ReadOnlySpan<uint> line = screen.Line(rect.X, y, rect.Width);
            int other = line.IndexOfAnyExcept(first, second);
            if (other < 0)
            {
                continue;
            }

            if (count == 2)
            {
                return 3;
            }

            second = line[other];
            count = 2;
            if (line[other..].IndexOfAnyExcept(first, second) >= 0)
            {
                return 3;
            }
        }

        return count;
    }

    /// <summary>True when every pixel of <paramref name="rect"/> is <paramref name="first"/> or <paramref name="second"/>.</summary>
    public static bool IsWithin(ScreenPixels screen, PixelRect rect, uint first, uint second)
    {
        for (int y = rect.Y; y < rect.Bottom; y++)
        {
            if (screen.Line(rect.X, y, rect.Width).IndexOfAnyExcept(first, second) >= 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The largest rectangle of <paramref name="bounds"/> in the colours {<paramref name="first"/>,
    /// <paramref name="second"/>} that grows from the tile at <paramref name="seed"/> (a tile already known to be in
    /// them): whole tiles right and down first, then single lines outwards on every side.
    /// </summary>
    public static PixelRect Grow(ScreenPixels screen, PixelRect bounds, PixelRect seed, uint first, uint second)
    {
        // Tile rows downwards; each row may reach only as far right as the row above did.
        int widthLimit = bounds.Right - seed.X;
        int bestWidth = 0, bestHeight = 0;
        for (int y = seed.Y; y < bounds.Bottom; y += TileSize)
        {
            int height = Math.Min(TileSize, bounds.Bottom - y);
            int x = seed.X;
            while (x < seed.X + widthLimit)
            {
                int width = Math.Min(TileSize, seed.X + widthLimit - x);
                if (!IsWithin(screen, new PixelRect(x, y, width, height), first, second))
                {
                    break;
                }

                x += width;
            }

            if (x == seed.X)
            {
                break;
            }

            widthLimit = x - seed.X;
            int rows = y + height - seed.Y;
            if ((long)widthLimit * rows > (long)bestWidth * bestHeight)
            {
                bestWidth = widthLimit;
                bestHeight = rows;
            }
        }

        var area = new PixelRect(seed.X, seed.Y, bestWidth, bestHeight);
        if (area.IsEmpty)
        {
            return area;
        }

        // Then line by line: up, down, left, right.
        int top = area.Y, bottom = area.Bottom, left = area.X, right = area.Right;
        while (top > bounds.Y && IsWithin(screen, new PixelRect(left, top - 1, right - left, 1), first, second))
        {
            top--;
        }

        while (bottom < bounds.Bottom && IsWithin(screen, new PixelRect(left, bottom, right - left, 1), first, second))
        {
            bottom++;
        }

        while (left > bounds.X && IsWithin(screen, new PixelRect(left - 1, top, 1, bottom - top), first, second))
        {
            left--;
        }

        while (right < bounds.Right && IsWithin(screen, new PixelRect(right, top, 1, bottom - top), first, second))
        {
            right++;
        }

        return new PixelRect(left, top, right - left, bottom - top);
    }
}
