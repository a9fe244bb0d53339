using Platform.Devices.Display;

namespace Platform.Engine.Vnc;

/// <summary>
/// Which picture of the std-vga a viewer sees at one refresh: the VBE framebuffer while a VBE mode is enabled (with
/// the KVM dirty log of its slot, exactly as before legacy modes existed), else, on machines whose legacy window is
/// mapped (firmware machines), the legacy mode that <see cref="LegacyVgaScreen"/> draws with its own page marks.
/// </summary>
/// <remarks>
/// <see cref="Begin"/> runs first in each refresh (<see cref="IFramebufferSource.BeginRefresh"/>), so the mode, memory and
/// dirty pages the server reads next all describe the same picture. The blink phases follow the VGA's: the cursor
/// toggles every 16 frames and blinking characters every 32, at the 70 Hz of the text modes.
/// </remarks>
public sealed class StdVgaScanout
{
    internal const long CursorHalfPeriodMs = 16 * 1000 / 70;
    internal const long BlinkHalfPeriodMs = 32 * 1000 / 70;

    private readonly LegacyVgaScreen _legacy = new();
    private readonly Func<long> _milliseconds;
    private bool _legacyShown;
    private bool _switched = true;
    private DisplayMode _vbeMode = DisplayMode.PowerOn;

    /// <param name="milliseconds">The clock the blink phases follow; the process's tick count unless given.</param>
    public StdVgaScanout(Func<long>? milliseconds = null)
    {
        _milliseconds = milliseconds ?? (() => Environment.TickCount64);
    }

    /// <summary>The legacy picture's drawing counters, for statistics and tests.</summary>
    public LegacyVgaScreen Legacy => _legacy;

    public DisplayMode Mode => _legacyShown ? _legacy.Mode : _vbeMode;

    /// <summary>Decides what is shown for this refresh and draws it if it is a legacy mode.</summary>
    /// <param name="showLegacyModes">False on machines without the legacy window: there the VBE mode alone is shown,
    /// as before (a disabled VBE mode is a black screen at its last size).</param>
    public void Begin(StdVga vga, bool showLegacyModes)
    {
        ArgumentNullException.ThrowIfNull(vga);
        _vbeMode = vga.Mode;
        bool legacy = showLegacyModes && !_vbeMode.Enabled;
        if (legacy)
        {
            long now = _milliseconds();
            _legacy.Refresh(vga, cursorOn: now / CursorHalfPeriodMs % 2 == 0, blinkOn: now / BlinkHalfPeriodMs % 2 == 0);
        }

        if (legacy != _legacyShown)
        {
            _legacyShown = legacy;
            _switched = true;
        }
    }

    public ReadOnlySpan<byte> Memory(StdVga vga) => _legacyShown ? _legacy.Memory : vga.VideoMemory.Span;

    /// <summary>The dirty pages of <see cref="Memory"/>: the legacy screen's own marks, or KVM's log of the VBE slot.</summary>
    public bool CollectDirtyPages(Span<ulong> dirtyPages, DirtyPageLogReader? readDirtyLog)
    {
        bool logged = _legacyShown ? _legacy.TakeDirtyPages(dirtyPages) : readDirtyLog is not null && readDirtyLog(dirtyPages);
        if (_switched)
        {
            // The other picture's marks say nothing about this one: compare everything once.
            _switched = false;
            dirtyPages.Clear();
            return false;
        }

        return logged;
    }
}
