namespace Platform.Devices.Display;

/// <summary>
/// What the display scans out, as a monitor would see it: the visible size, how pixels are laid out in video
/// memory, and where the first visible pixel is. A value type, so a snapshot taken under the device's lock stays
/// consistent while another thread reads the framebuffer with it.
/// </summary>
/// <param name="Enabled">True while the guest has a VBE mode set. When false the screen shows nothing and the
/// other fields describe the last mode (or 640×480 before any), so a viewer need not resize for a mode switch
/// that disables and re-enables the display.</param>
/// <param name="Blanked">True while the VGA attribute controller has video output off (palette address source
/// bit 0x20 clear in port 0x3C0's index): the screen is black, as QEMU shows it.</param>
/// <param name="Width">Visible pixels per line.</param>
/// <param name="Height">Visible lines.</param>
/// <param name="BitsPerPixel">4 (planar, shown black), 8 (through the DAC palette), 15 (x1r5g5b5), 16 (r5g6b5),
/// 24 (b,g,r bytes) or 32 (x8r8g8b8).</param>
/// <param name="Stride">Bytes from one line to the next (the virtual width times the bytes per pixel).</param>
/// <param name="StartOffset">Byte offset in video memory of the first visible pixel (the X/Y panning offset).</param>
/// <param name="BigEndian">True when the guest chose a big-endian framebuffer through QEMU's extension register;
/// 32 bpp is then b8g8r8x8 in memory order x,r,g,b.</param>
public readonly record struct DisplayMode(
    bool Enabled,
    bool Blanked,
    int Width,
    int Height,
    int BitsPerPixel,
    int Stride,
    int StartOffset,
    bool BigEndian)
{
    /// <summary>The size a display shows before any mode is set (VGA's 640×480).</summary>
    public static DisplayMode PowerOn { get; } = new(false, true, 640, 480, 32, 640 * 4, 0, false);

    /// <summary>Bytes one pixel takes in video memory (0 for 4-bit planar).</summary>
    public int BytesPerPixel => BitsPerPixel switch
    {
        8 => 1,
        15 or 16 => 2,
        24 => 3,
        32 => 4,
        _ => 0,
    };

    /// <summary>True when something is on screen: a mode is set, video is not blanked, and the depth is one we draw.</summary>
    public bool Visible => Enabled && !Blanked && BytesPerPixel != 0;

    /// <summary>True when <paramref name="other"/> has the same visible size (what a viewer must resize for).</summary>
    public bool SameSize(DisplayMode other) => Width == other.Width && Height == other.Height;
}
