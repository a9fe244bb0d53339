namespace Platform.Engine.Vnc.Encoders;

/// <summary>
/// The distinct colours of a tile, up to a limit, with each colour's palette index: a small open-addressing hash
/// table reused tile after tile (a generation stamp empties it without clearing), so palette analysis allocates
/// nothing.
/// </summary>
internal sealed class ColourPalette
{
    private const int Slots = 1024;   // a power of two, four times the largest palette
    private const int SlotMask = Slots - 1;

    private readonly uint[] _keys = new uint[Slots];
    private readonly int[] _stamps = new int[Slots];
    private readonly byte[] _indexes = new byte[Slots];
    private readonly uint[] _colours = new uint[256];
    private int _generation;
    private int _limit;

    /// <summary>Distinct colours found (Limit + 1 means "more than the limit").</summary>
    public int Count { get; private set; }

    /// <summary>The colours in index order.</summary>
    public ReadOnlySpan<uint> Colours => _colours.AsSpan(0, Math.Min(Count, _limit));

    /// <summary>Starts a new palette that stops counting past <paramref name="limit"/> (at most 256) colours.</summary>
    public void Reset(int limit)
    {
        _limit = Math.Min(limit, 256);
        Count = 0;
        if (++_generation == int.MaxValue)
        {
            Array.Clear(_stamps);
            _generation = 1;
        }
    }

    /// <summary>Adds <paramref name="colour"/>; false once the palette has overflowed its limit.</summary>
    public bool Add(uint colour)
    {
        if (Count > _limit)
        {
            return false;
        }

        int slot = Slot(colour);
        while (_stamps[slot] == _generation)
        {
            if (_keys[slot] == colour)
            {
                return true;
            }

            slot = (slot + 1) & SlotMask;
        }

        if (Count == _limit)
        {
            Count++;
            return false;
        }

        _stamps[slot] = _generation;
        _keys[slot] = colour;
        _indexes[slot] = (byte)Count;
        _colours[Count++] = colour;
        return true;
    }

    /// <summary>The palette index of a colour known to be in the palette.</summary>
    public int IndexOf(uint colour)
    {
        int slot = Slot(colour);
        for (int probe = 0; probe < Slots; probe++, slot = (slot + 1) & SlotMask)
        {
            if (_stamps[slot] == _generation && _keys[slot] == colour)
            {
                return _indexes[slot];
            }
        }

        return 0;
    }

    private static int Slot(uint colour) => (int)((colour * 2654435761u) >> 22) & SlotMask;
}
