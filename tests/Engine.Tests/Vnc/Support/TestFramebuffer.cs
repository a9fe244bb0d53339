using Platform.Devices.Display;
using Platform.Engine.Vnc;

namespace Platform.Engine.Tests.Vnc.Support;

/// <summary>
/// Video memory the test draws in, with a dirty log the test keeps as KVM would: every draw marks its pages.
/// Starts as a visible 32-bit mode.
/// </summary>
internal sealed class TestFramebuffer : IFramebufferSource
{
    private readonly byte[] _memory;
    private readonly HashSet<int> _dirty = [];
    private readonly uint[] _palette = new uint[256];

    public TestFramebuffer(int width, int height, int memorySize = 16 * 1024 * 1024)
    {
        _memory = new byte[memorySize];
        Mode = new DisplayMode(true, false, width, height, 32, width * 4, 0, false);
    }

    public DisplayMode Mode { get; set; }

    public ReadOnlySpan<byte> VideoMemory => _memory;

    public byte[] Memory => _memory;

    public int PaletteVersion { get; set; }

    /// <summary>False makes the source say it has no dirty log (the server compares everything).</summary>
    public bool HasDirtyLog { get; set; } = true;

    public int Collections { get; private set; }

    public uint[] Palette => _palette;

    public void CopyPalette(Span<uint> destination) => _palette.CopyTo(destination);

    public bool CollectDirtyPages(Span<ulong> dirtyPages)
    {
        Collections++;
        foreach (int page in _dirty)
        {
            dirtyPages[page / 64] |= 1UL << (page % 64);
        }

        _dirty.Clear();
        return HasDirtyLog;
    }

    public void MarkDirty(long offset, long length)
    {
        for (long page = offset / IFramebufferSource.PageSize; page <= (offset + length - 1) / IFramebufferSource.PageSize; page++)
        {
            _dirty.Add((int)page);
        }
    }

    /// <summary>Sets one 32-bit pixel (x8r8g8b8) of the current mode and logs its page.</summary>
    public void SetPixel(int x, int y, uint xrgb)
    {
        int offset = Mode.StartOffset + (y * Mode.Stride) + (x * 4);
        BitConverter.TryWriteBytes(_memory.AsSpan(offset, 4), xrgb);
        MarkDirty(offset, 4);
    }

    public uint GetPixel(int x, int y) => BitConverter.ToUInt32(_memory, Mode.StartOffset + (y * Mode.Stride) + (x * 4)) & 0xFFFFFF;

    public void Fill(Func<int, int, uint> picture)
    {
        for (int y = 0; y < Mode.Height; y++)
        {
            for (int x = 0; x < Mode.Width; x++)
            {
                SetPixel(x, y, picture(x, y));
            }
        }
    }

    /// <summary>The visible screen as the test expects the client to show it.</summary>
    public uint[] Expected()
    {
        var pixels = new uint[Mode.Width * Mode.Height];
        for (int y = 0; y < Mode.Height; y++)
        {
            for (int x = 0; x < Mode.Width; x++)
            {
                pixels[(y * Mode.Width) + x] = Mode.Visible ? GetPixel(x, y) : 0;
            }
        }

        return pixels;
    }
}

/// <summary>Keyboard and pointer sinks that record what the server passed on.</summary>
internal sealed class RecordingInput : IVncKeyboard, IVncPointer
{
    private readonly Lock _gate = new();
    private readonly List<(int Scancode, bool Down)> _keys = [];
    private readonly List<(int X, int Y, int Buttons, int Width, int Height)> _pointer = [];

    public byte Leds { get; set; }

    public IReadOnlyList<(int Scancode, bool Down)> Keys
    {
        get
        {
            lock (_gate)
            {
                return [.. _keys];
            }
        }
    }

    public IReadOnlyList<(int X, int Y, int Buttons, int Width, int Height)> Pointer
    {
        get
        {
            lock (_gate)
            {
                return [.. _pointer];
            }
        }
    }

    /// <summary>Keys the keyboard still takes before it is full; null: it never fills (the default).</summary>
    public int? Room { get; private set; }

    public Action? RoomAvailable { get; set; }

    /// <summary>Key events refused because <see cref="Room"/> ran out.</summary>
    public int Refusals { get; private set; }

    /// <summary>From now on the keyboard takes <paramref name="keys"/> more, then refuses until <see cref="MakeRoom"/>.</summary>
    public void LimitRoom(int keys)
    {
        lock (_gate)
        {
            Room = keys;
        }
    }

    /// <summary>The "guest" read <paramref name="keys"/> keys: the keyboard calls back as a real one does.</summary>
    public void MakeRoom(int keys)
    {
        lock (_gate)
        {
            Room = (Room ?? 0) + keys;
        }

        RoomAvailable?.Invoke();
    }

    public bool TryKeyEvent(int xtScancode, bool down)
    {
        lock (_gate)
        {
            if (Room is 0)
            {
                Refusals++;
                return false;
            }

            Room--;
            _keys.Add((xtScancode, down));
            return true;
        }
    }

    public void PointerEvent(int x, int y, int buttons, int screenWidth, int screenHeight)
    {
        lock (_gate)
        {
            _pointer.Add((x, y, buttons, screenWidth, screenHeight));
        }
    }
}
