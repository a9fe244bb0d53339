using Platform.Devices.Display;

namespace Platform.Engine.Vnc;

/// <summary>
/// Where the VNC server gets the screen from: the display's mode, its video memory, and which pages of that memory
/// the guest wrote since the last look. The engine implements the dirty log with <c>KVM_GET_DIRTY_LOG</c> on the
/// framebuffer's memory slot (see <see cref="StdVgaFramebufferSource"/>); tests mark pages themselves.
/// </summary>
/// <remarks>
/// Called only from <see cref="VncServer.Refresh"/>, one call at a time. Reading video memory while the guest writes
/// it is expected (the pixels may tear; the page stays dirty for the next refresh, so the screen always settles).
/// </remarks>
public interface IFramebufferSource
{
    /// <summary>The dirty-log granularity: KVM logs 4 KiB pages.</summary>
    const int PageSize = 4096;

    /// <summary>
    /// Called first in each refresh, before <see cref="Mode"/>: a source that draws its picture (the std-vga's legacy
    /// modes) does so here, so what the server reads next describes one picture.
    /// </summary>
    void BeginRefresh()
    {
    }

    /// <summary>What the display shows now.</summary>
    DisplayMode Mode { get; }

    /// <summary>The whole video memory, the visible part at <see cref="DisplayMode.StartOffset"/>.</summary>
    ReadOnlySpan<byte> VideoMemory { get; }

    /// <summary>Changes whenever the 8-bit palette does (only 8 bpp modes use it).</summary>
    int PaletteVersion { get; }

    /// <summary>Copies the 256-entry palette as 0x00RRGGBB.</summary>
    void CopyPalette(Span<uint> destination);

    /// <summary>
    /// Sets bit <c>n</c> of <paramref name="dirtyPages"/> (bit n % 64 of element n / 64) for each page of video memory
    /// written since the previous call, and starts a new log. <paramref name="dirtyPages"/> arrives cleared and holds
    /// one bit per <see cref="PageSize"/> bytes of <see cref="VideoMemory"/>. Return false when the source cannot
    /// tell (no dirty log): the server then compares all of the visible memory with its copy.
    /// </summary>
    bool CollectDirtyPages(Span<ulong> dirtyPages);
}

/// <summary>Where keys typed in a VNC viewer go: the guest's keyboard (the i8042, or the virtio keyboard).</summary>
/// <remarks>
/// The server never drops a key because the guest reads slowly: it holds a client's keys in that client's queue and
/// offers them one at a time, and a keyboard that is full says so and calls <see cref="RoomAvailable"/> later.
/// </remarks>
public interface IVncKeyboard
{
    /// <summary>
    /// Offers a key going down or up. <paramref name="xtScancode"/> is its set-1 (XT) make code: 0x01–0x7F for an
    /// ordinary key, 0xE001–0xE07F for one sent with the 0xE0 prefix — the form <c>I8042Controller.KeyEvent</c> takes.
    /// True when the keyboard took it (or discarded it on purpose: nobody listens); false when it has no room now,
    /// with nothing changed: it then calls <see cref="RoomAvailable"/> once it has room.
    /// </summary>
    bool TryKeyEvent(int xtScancode, bool down);

    /// <summary>The keyboard LEDs the guest set: bit 0 Scroll Lock, bit 1 Num Lock, bit 2 Caps Lock (the i8042's <c>Leds</c>).</summary>
    byte Leds { get; }

    /// <summary>
    /// What the keyboard calls (on any thread, outside its locks; it must only schedule work) after refusing a key,
    /// once it has room again. The server sets it before offering its first key.
    /// </summary>
    Action? RoomAvailable { get; set; }
}

/// <summary>Where the VNC pointer goes: an absolute pointing device (a virtio-input tablet).</summary>
public interface IVncPointer
{
    /// <summary>
    /// The pointer is at (<paramref name="x"/>, <paramref name="y"/>) on a screen of
    /// <paramref name="screenWidth"/>×<paramref name="screenHeight"/> pixels, with <paramref name="buttons"/> held:
    /// bit 0 left, 1 middle, 2 right, 3/4 wheel up/down, 5/6 wheel left/right (a wheel step is a press and release).
    /// </summary>
    void PointerEvent(int x, int y, int buttons, int screenWidth, int screenHeight);
}
