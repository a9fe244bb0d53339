using Platform.Devices.Display;
using Platform.Engine.Vnc;

namespace Platform.Engine.Tests.Vnc;

public sealed class FramebufferConverterTests
{
    [Theory]
    [InlineData(32, false, new byte[] { 0x56, 0x34, 0x12, 0xFF }, 0x123456u)]   // b, g, r, x: the unused byte is dropped
    [InlineData(32, true, new byte[] { 0xFF, 0x12, 0x34, 0x56 }, 0x123456u)]    // x, r, g, b
    [InlineData(24, false, new byte[] { 0x56, 0x34, 0x12 }, 0x123456u)]
    [InlineData(24, true, new byte[] { 0x12, 0x34, 0x56 }, 0x123456u)]
    [InlineData(16, false, new byte[] { 0x1F, 0xF8 }, 0xFF00FFu)]                // r5g6b5: red all on, green off, blue all on
    [InlineData(16, true, new byte[] { 0x07, 0xE0 }, 0x00FF00u)]                 // green all on, big-endian
    [InlineData(15, false, new byte[] { 0x00, 0x7C }, 0xFF0000u)]                // x1r5g5b5: red all on
    [InlineData(15, false, new byte[] { 0x10, 0x42 }, 0x848484u)]                // 16 of 31 in each channel
    public void Each_depth_reads_as_xrgb(int bitsPerPixel, bool bigEndian, byte[] pixel, uint expected)
    {
        var memory = new byte[4096];
        pixel.CopyTo(memory, 16 * pixel.Length + 100);
        var mode = new DisplayMode(true, false, 32, 2, bitsPerPixel, 200, 100, bigEndian);
        var line = new uint[32];
        FramebufferConverter.ConvertRow(mode, memory, new uint[256], 0, 0, line);
        line[16].Should().Be(expected);
        line[15].Should().Be(0u);
    }

    [Fact]
    public void Eight_bits_per_pixel_goes_through_the_palette()
    {
        var memory = new byte[4096];
        memory[3] = 200;
        var palette = new uint[256];
        palette[200] = 0xABCDEF;
        var line = new uint[8];
        FramebufferConverter.ConvertRow(new DisplayMode(true, false, 8, 1, 8, 8, 0, false), memory, palette, 0, 0, line);
        line[3].Should().Be(0xABCDEFu);
    }

    [Fact]
    public void A_screen_that_shows_nothing_or_runs_past_memory_reads_black()
    {
        var memory = new byte[4096];
        Array.Fill(memory, (byte)0x77);
        var line = new uint[16];
        var visible = new DisplayMode(true, false, 16, 100, 32, 64, 0, false);
        FramebufferConverter.ConvertRow(visible, memory, new uint[256], 0, 0, line);
        line.Should().OnlyContain(p => p == 0x777777);
        FramebufferConverter.ConvertRow(visible, memory, new uint[256], 64, 0, line);
        line.Should().OnlyContain(p => p == 0, "line 64 starts past the 4 KiB of memory");
        FramebufferConverter.ConvertRow(visible with { Blanked = true }, memory, new uint[256], 0, 0, line);
        line.Should().OnlyContain(p => p == 0);
        FramebufferConverter.ConvertRow(visible with { BitsPerPixel = 4 }, memory, new uint[256], 0, 0, line);
        line.Should().OnlyContain(p => p == 0, "planar modes are not drawn");
    }
}
