namespace Platform.Devices.Display;

/// <summary>
/// A copy of the VGA registers a legacy display is drawn from, taken in one piece by
/// <see cref="StdVga.CaptureLegacyState"/> so the renderer never reads them half-changed. Reused from one refresh to
/// the next, so a refresh allocates nothing.
/// </summary>
public sealed class LegacyVgaState
{
    /// <summary><see cref="StdVga.LegacyChanges"/> when captured.</summary>
    public long Changes { get; internal set; } = -1;

    public bool VbeEnabled { get; internal set; }

    /// <summary>The attribute controller's palette address source bit: false means video output is off.</summary>
    public bool VideoOn { get; internal set; }

    public byte MiscOutput { get; internal set; }

    public byte[] Sequencer { get; } = new byte[8];

    public byte[] Graphics { get; } = new byte[16];

    public byte[] Crtc { get; } = new byte[256];

    public byte[] Attributes { get; } = new byte[0x15];

    /// <summary>The DAC's 256 colours as 0x00RRGGBB, refreshed only when <see cref="PaletteVersion"/> moves.</summary>
    public uint[] Palette { get; } = new uint[256];

    public int PaletteVersion { get; internal set; } = int.MinValue;

    /// <summary>True when graphics register 6 selects a graphics (not text) mode.</summary>
    public bool GraphicsMode => (Graphics[StdVga.GfxMisc] & StdVga.GfxMiscGraphics) != 0;
}
