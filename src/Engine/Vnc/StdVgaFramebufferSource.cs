using Platform.Devices.Display;

namespace Platform.Engine.Vnc;

/// <summary>Reads the dirty log of the framebuffer's memory slot into a page bitmap; false when there is none.</summary>
public delegate bool DirtyPageLogReader(Span<ulong> dirtyPages);

/// <summary>
/// The std-vga as a VNC framebuffer source: its mode, palette and video memory, with the dirty log the engine keeps
/// for the memory slot that maps the video memory into the guest (<c>KVM_MEM_LOG_DIRTY_PAGES</c>, read with
/// <c>KVM_GET_DIRTY_LOG</c>, which also clears it).
/// </summary>
/// <remarks>
/// Writes the device itself makes (clearing memory when a mode is enabled) are not in KVM's log, but every such write
/// comes with a mode change, after which the server compares the whole screen anyway.
/// </remarks>
public sealed class StdVgaFramebufferSource : IFramebufferSource
{
    private readonly StdVga _vga;
    private readonly DirtyPageLogReader? _readDirtyLog;

    /// <param name="vga">The display device.</param>
    /// <param name="readDirtyLog">Fills the page bitmap from KVM's dirty log; null when the slot has no dirty logging
    /// (the server then compares the whole visible memory on every refresh).</param>
    public StdVgaFramebufferSource(StdVga vga, DirtyPageLogReader? readDirtyLog)
    {
        ArgumentNullException.ThrowIfNull(vga);
        _vga = vga;
        _readDirtyLog = readDirtyLog;
    }

    public DisplayMode Mode => _vga.Mode;

    public ReadOnlySpan<byte> VideoMemory => _vga.VideoMemory.Span;

    public int PaletteVersion => _vga.PaletteVersion;

    public void CopyPalette(Span<uint> destination) => _vga.CopyPalette(destination);

    public bool CollectDirtyPages(Span<ulong> dirtyPages) => _readDirtyLog is not null && _readDirtyLog(dirtyPages);
}
