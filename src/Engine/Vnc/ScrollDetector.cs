using Platform.Devices.Display;

namespace Platform.Engine.Vnc;

/// <summary>Full-width lines [SourceY, SourceY + Height) of the previous screen now show at DestinationY.</summary>
internal readonly record struct ScrollMove(int SourceY, int DestinationY, int Height)
{
    public PixelRect Source(int width) => new(0, SourceY, width, Height);

    public PixelRect Destination(int width) => new(0, DestinationY, width, Height);
}

/// <summary>
/// Finds a vertical scroll in a refresh, the usual way a text console changes: the guest rewrites (nearly) every line,
/// but most new lines equal old lines a fixed distance away. Sent as one CopyRect plus the new lines, a scroll of a
/// 1024×768 console costs a few kilobytes instead of a full screen. Lines are compared by 64-bit hashes; a collision
/// cannot corrupt a client's screen, because after the move the shadow is compared exactly with video memory and
/// every line that differs is sent as well.
/// </summary>
internal sealed class ScrollDetector
{
    private const int MinimumDirtyLines = 32;
    private const int SampleLines = 12;
    private const int MaxCandidates = 16;

    private ulong[] _oldHashes = [];
    private ulong[] _newHashes = [];

    /// <summary>Returns the scroll the dirty lines show, or null. <paramref name="rowFirst"/> marks dirty lines.</summary>
    public ScrollMove? Detect(ScreenShadow shadow, DisplayMode mode, ReadOnlySpan<byte> memory, ReadOnlySpan<uint> palette, int[] rowFirst, uint[] line)
    {
        int width = shadow.Width, height = shadow.Height;
        int top = -1, bottom = -1, dirty = 0;
        for (int y = 0; y < height; y++)
        {
            if (rowFirst[y] != int.MaxValue)
            {
                dirty++;
                bottom = y;
                if (top < 0)
                {
                    top = y;
                }
            }
        }

        if (dirty < Math.Max(MinimumDirtyLines, height / 4))
        {
            return null;
        }

        if (_oldHashes.Length != height)
        {
            _oldHashes = new ulong[height];
            _newHashes = new ulong[height];
        }

        for (int y = 0; y < height; y++)
        {
            _oldHashes[y] = Hash(shadow.Pixels.AsSpan(y * width, width));
        }

        for (int y = top; y <= bottom; y++)
        {
            FramebufferConverter.ConvertRow(mode, memory, palette, y, 0, line.AsSpan(0, width));
            _newHashes[y] = Hash(line.AsSpan(0, width));
        }

        int offset = BestOffset(top, bottom, height);
        if (offset == 0)
        {
            return null;
        }

        // The longest run of lines in the dirty band that match old lines `offset` away.
        int bestStart = 0, bestLength = 0, runStart = -1;
        for (int y = top; y <= bottom + 1; y++)
        {
            int source = y + offset;
            bool match = y <= bottom && source >= 0 && source < height && _newHashes[y] == _oldHashes[source];
            if (match && runStart < 0)
            {
                runStart = y;
            }
            else if (!match && runStart >= 0)
            {
                if (y - runStart > bestLength)
                {
                    bestStart = runStart;
                    bestLength = y - runStart;
                }

                runStart = -1;
            }
        }

        if (bestLength < MinimumDirtyLines / 2 || bestLength * 2 < dirty / 2)
        {
            return null;
        }

        return new ScrollMove(bestStart + offset, bestStart, bestLength);
    }

    /// <summary>The distance most sample lines moved by (new line y shows old line y + offset); 0 if none is clear.</summary>
    private int BestOffset(int top, int bottom, int height)
    {
        Span<int> offsets = stackalloc int[MaxCandidates];
        Span<int> votes = stackalloc int[MaxCandidates];
        int candidates = 0;
        int step = Math.Max(1, (bottom - top + 1) / SampleLines);
        for (int start = top; start <= bottom; start += step)
        {
            // From each sample position, the first line that says something about the distance: not unchanged, and
            // not one found all over the band (blank lines, rules — a text console has many, at regular intervals).
            int y = start;
            int end = Math.Min(bottom, start + step - 1);
            while (y <= end && (_newHashes[y] == _oldHashes[y] || IsCommon(_newHashes[y], y, top, bottom)))
            {
                y++;
            }

            if (y > end)
            {
                continue;
            }

            ulong hash = _newHashes[y];

            for (int source = 0; source < height; source++)
            {
                if (source == y || _oldHashes[source] != hash)
                {
                    continue;
                }

                int offset = source - y;
                int at = offsets[..candidates].IndexOf(offset);
                if (at < 0 && candidates < MaxCandidates)
                {
                    at = candidates++;
                    offsets[at] = offset;
                    votes[at] = 0;
                }

                if (at >= 0)
                {
                    votes[at]++;
                }
            }
        }

        int best = 0, bestVotes = 1;
        for (int i = 0; i < candidates; i++)
        {
            if (votes[i] > bestVotes || (votes[i] == bestVotes && best != 0 && Math.Abs(offsets[i]) < Math.Abs(best)))
            {
                best = offsets[i];
                bestVotes = votes[i];
            }
        }

        return best;
    }

    /// <summary>True when more than a few new lines in the band share this hash.</summary>
    private bool IsCommon(ulong hash, int y, int top, int bottom)
    {
        int same = 0;
        for (int other = top; other <= bottom && same <= 3; other++)
        {
            if (other != y && _newHashes[other] == hash)
            {
                same++;
            }
        }

        return same > 3;
    }

    private static ulong Hash(ReadOnlySpan<uint> pixels)
    {
        ulong hash = 0xCBF29CE484222325;
        foreach (uint pixel in pixels)
        {
            hash = (hash ^ pixel) * 0x100000001B3;
        }

        return hash;
    }
}
