using Platform.Devices.Display;

namespace Platform.Engine.Vnc;

/// <summary>Reads the dirty log of the framebuffer's memory slot into a page bitmap; false when there is none.</summary>
public delegate bool DirtyPageLogReader(Span<ulong> dirtyPages);

/// <summary>
/// The std-vga as a VNC framebuffer source: its mode, palette and video memory, with the dirty log the engine keeps
/// for the memory slot that maps the video memory into the guest (<c>KVM_MEM_LOG_DIRTY_PAGES</c>, read with
/// <c>KVM_GET_DIRTY_LOG</c>, which also clears it); with <c>showLegacyModes</c>, the legacy modes drawn by
/// <see cref="StdVgaScanout"/> while no VBE mode is set.
/// </summary>
/// <remarks>
/// Writes the device itself makes (clearing memory when a mode is enabled) are not in KVM's log, but every such write
/// comes with a mode change, after which the server compares the whole screen anyway.
/// </remarks>
public sealed class StdVgaFramebufferSource : IFramebufferSource
{
    private readonly StdVga _vga;
    private readonly DirtyPageLogReader? _readDirtyLog;
    private readonly bool _showLegacyModes;
    private readonly StdVgaScanout _scanout;

    /// <param name="vga">The display device.</param>
    /// <param name="readDirtyLog">Fills the page bitmap from KVM's dirty log; null when the slot has no dirty logging
    /// (the server then compares the whole visible memory on every refresh).</param>
    /// <param name="showLegacyModes">True on a machine whose legacy window is mapped (a firmware machine): text mode
    /// and mode 13h are shown while no VBE mode is set.</param>
    /// <param name="milliseconds">The clock of the cursor's and blinking text's phases (the tick count unless given).</param>
    public StdVgaFramebufferSource(StdVga vga, DirtyPageLogReader? readDirtyLog, bool showLegacyModes = false, Func<long>? milliseconds = null)
    {
        _scanout = new StdVgaScanout(milliseconds);
        ArgumentNullException.ThrowIfNull(vga);
        _vga = vga;
        _readDirtyLog = readDirtyLog;
        _showLegacyModes = showLegacyModes;
        _scanout.Begin(vga, showLegacyModes); // a mode for the server's first look, before its first refresh
    }

    /// <summary>The legacy picture's drawing counters.</summary>
    public LegacyVgaScreen Legacy => _scanout.Legacy;

    public void BeginRefresh() => _scanout.Begin(_vga, _showLegacyModes);

    public DisplayMode Mode => _scanout.Mode;

    public ReadOnlySpan<byte> VideoMemory => _scanout.Memory(_vga);

    public int PaletteVersion => _vga.PaletteVersion;

    public void CopyPalette(Span<uint> destination) => _vga.CopyPalette(destination);

    public bool CollectDirtyPages(Span<ulong> dirtyPages) => _scanout.CollectDirtyPages(dirtyPages, _readDirtyLog);
}
