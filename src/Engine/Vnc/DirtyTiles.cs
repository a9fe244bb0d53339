namespace Platform.Engine.Vnc;

/// <summary>A rectangle of framebuffer pixels.</summary>
public readonly record struct PixelRect(int X, int Y, int Width, int Height)
{
    public int Right => X + Width;

    public int Bottom => Y + Height;

    public bool IsEmpty => Width <= 0 || Height <= 0;

    public PixelRect Intersect(PixelRect other)
    {
        int x = Math.Max(X, other.X), y = Math.Max(Y, other.Y);
        int right = Math.Min(Right, other.Right), bottom = Math.Min(Bottom, other.Bottom);
        return right > x && bottom > y ? new PixelRect(x, y, right - x, bottom - y) : default;
    }
}

/// <summary>
/// Which 16×16-pixel tiles of the screen changed and are not yet sent: one bit per tile. A client that stops reading
/// keeps only this (changes to the same tile coalesce), so its cost is fixed by the screen size, never by how long it
/// lags.
/// </summary>
internal sealed class DirtyTiles
{
    public const int TileSize = 16;

    /// <summary>Past this many runs in one tile row, the row goes as one span: fewer, larger rectangles.</summary>
    private const int MaxRunsPerRow = 8;

    private ulong[] _bits = [];
    private int _wordsPerRow;

    public int Width { get; private set; }

    public int Height { get; private set; }

    public int TilesX { get; private set; }

    public int TilesY { get; private set; }

    /// <summary>Sizes the grid for a <paramref name="width"/>×<paramref name="height"/> screen; all tiles clean.</summary>
    public void Resize(int width, int height)
    {
        Width = width;
        Height = height;
        TilesX = (width + TileSize - 1) / TileSize;
        TilesY = (height + TileSize - 1) / TileSize;
        _wordsPerRow = (TilesX + 63) / 64;
        int words = _wordsPerRow * TilesY;
        if (_bits.Length != words)
        {
            _bits = new ulong[words];
        }
        else
        {
            Array.Clear(_bits);
        }
    }

    public bool IsEmpty => Array.TrueForAll(_bits, w => w == 0);

    public void Clear() => Array.Clear(_bits);

    public void SetTile(int tileX, int tileY) => _bits[(tileY * _wordsPerRow) + (tileX >> 6)] |= 1UL << (tileX & 63);

    public bool IsSet(int tileX, int tileY) => (_bits[(tileY * _wordsPerRow) + (tileX >> 6)] & (1UL << (tileX & 63))) != 0;

    public void SetAll() => SetRect(new PixelRect(0, 0, Width, Height));

    /// <summary>Marks every tile that <paramref name="rect"/> (pixels) touches.</summary>
    public void SetRect(PixelRect rect)
    {
        rect = rect.Intersect(new PixelRect(0, 0, Width, Height));
        if (rect.IsEmpty)
        {
            return;
        }

        int tx0 = rect.X / TileSize, tx1 = (rect.Right - 1) / TileSize;
        int ty0 = rect.Y / TileSize, ty1 = (rect.Bottom - 1) / TileSize;
        for (int ty = ty0; ty <= ty1; ty++)
        {
            for (int tx = tx0; tx <= tx1; tx++)
            {
                SetTile(tx, ty);
            }
        }
    }

    /// <summary>True when any tile <paramref name="rect"/> touches is marked.</summary>
    public bool AnySet(PixelRect rect)
    {
        rect = rect.Intersect(new PixelRect(0, 0, Width, Height));
        if (rect.IsEmpty)
        {
            return false;
        }

        for (int ty = rect.Y / TileSize; ty <= (rect.Bottom - 1) / TileSize; ty++)
        {
            for (int tx = rect.X / TileSize; tx <= (rect.Right - 1) / TileSize; tx++)
            {
                if (IsSet(tx, ty))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Adds the tiles marked in <paramref name="other"/>, a grid of the same size.</summary>
    public void UnionWith(DirtyTiles other)
    {
        for (int i = 0; i < _bits.Length; i++)
        {
            _bits[i] |= other._bits[i];
        }
    }

    /// <summary>
    /// Takes the marked tiles inside <paramref name="clip"/> (widened to whole tiles, cut to the screen) as a few
    /// rectangles — runs of tiles in a row, merged down while the next row has the same run — and clears them.
    /// </summary>
    public void TakeRectangles(PixelRect clip, List<PixelRect> output)
    {
        clip = clip.Intersect(new PixelRect(0, 0, Width, Height));
        if (clip.IsEmpty)
        {
            return;
        }

        int tx0 = clip.X / TileSize, tx1 = ((clip.Right - 1) / TileSize) + 1;
        int ty0 = clip.Y / TileSize, ty1 = ((clip.Bottom - 1) / TileSize) + 1;
        int previousRowStart = output.Count, previousRowEnd = output.Count;
        Span<int> runs = stackalloc int[MaxRunsPerRow * 2 + 2];
        for (int ty = ty0; ty < ty1; ty++)
        {
            int runCount = FindRuns(ty, tx0, tx1, runs, out int first, out int last);
            if (runCount == 0)
            {
                previousRowStart = previousRowEnd = output.Count;
                continue;
            }

            if (runCount > MaxRunsPerRow)
            {
                runCount = 1;
                runs[0] = first;
                runs[1] = last;
            }

            int rowStart = output.Count;
            int y = ty * TileSize;
            int height = Math.Min(TileSize, Height - y);
            for (int r = 0; r < runCount; r++)
            {
                int start = runs[r * 2], end = runs[(r * 2) + 1];
                ClearRun(ty, start, end);
                int x = start * TileSize;
                int width = Math.Min(end * TileSize, Width) - x;
                // Grow the rectangle above when it covers exactly this run and ends on the row above.
                bool merged = false;
                for (int i = previousRowStart; i < previousRowEnd; i++)
                {
                    PixelRect above = output[i];
                    if (above.X == x && above.Width == width && above.Bottom == y)
                    {
                        output[i] = above with { Height = above.Height + height };
                        output.Add(output[i]);
                        output.RemoveAt(i);
                        previousRowEnd--;
                        rowStart--;
                        merged = true;
                        break;
                    }
                }

                if (!merged)
                {
                    output.Add(new PixelRect(x, y, width, height));
                }
            }

            previousRowStart = rowStart;
            previousRowEnd = output.Count;
        }
    }

    /// <summary>Runs of marked tiles in row <paramref name="ty"/> between columns [tx0, tx1), as start/end pairs.</summary>
    private int FindRuns(int ty, int tx0, int tx1, Span<int> runs, out int first, out int last)
    {
        int count = 0;
        first = -1;
        last = -1;
        int tx = tx0;
        while (tx < tx1)
        {
            if (!IsSet(tx, ty))
            {
                tx++;
                continue;
            }

            int start = tx;
            while (tx < tx1 && IsSet(tx, ty))
            {
                tx++;
            }

            if (first < 0)
            {
                first = start;
            }

            last = tx;
            if (count <= MaxRunsPerRow)
            {
                runs[count * 2] = start;
                runs[(count * 2) + 1] = tx;
            }

            count++;
        }

        return count;
    }

    private void ClearRun(int ty, int start, int end)
    {
        for (int tx = start; tx < end; tx++)
        {
            _bits[(ty * _wordsPerRow) + (tx >> 6)] &= ~(1UL << (tx & 63));
        }
    }
}
