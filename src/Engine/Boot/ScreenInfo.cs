namespace Platform.Engine.Boot;

/// <summary>
/// A linear framebuffer the firmware (here, the VMM) left set up for a Linux kernel: what goes into the zero page's
/// <c>screen_info</c> as <c>VIDEO_TYPE_VLFB</c>, so the kernel's built-in vesafb/simplefb and fbcon draw on it from
/// the first line with no driver of their own.
/// </summary>
/// <param name="Width">Visible pixels per line.</param>
/// <param name="Height">Visible lines.</param>
/// <param name="BitsPerPixel">32 for the x8r8g8b8 modes we set.</param>
/// <param name="Stride">Bytes from one line to the next.</param>
/// <param name="Base">Guest-physical address of the first pixel (PCI BAR 0 of the display).</param>
/// <param name="Size">Bytes of video memory behind <paramref name="Base"/>.</param>
public sealed record ScreenInfo(int Width, int Height, int BitsPerPixel, int Stride, ulong Base, ulong Size)
{
    /// <summary>x8r8g8b8: red in bits 16–23, green 8–15, blue 0–7, the top byte unused.</summary>
    public (byte Position, byte Size) Red { get; init; } = (16, 8);

    public (byte Position, byte Size) Green { get; init; } = (8, 8);

    public (byte Position, byte Size) Blue { get; init; } = (0, 8);

    public (byte Position, byte Size) Reserved { get; init; } = (24, 8);
}
