using System.Buffers.Binary;
using Platform.Devices.Display;

namespace Platform.Devices.Tests.Display;

// The 16-colour planar modes and the CGA modes as LegacyVgaScreen draws them, after programming the std-vga's
// registers as vgabios-stdvga does for modes 12h and 04h. Colours through the EGA attribute palette and the DAC:
// 1 blue (0,0,0x2A → 0x0000AA), 2 green, 3 cyan, 4 red, 0x3F bright white.
public sealed class LegacyVgaGraphicsTests
{
    private const uint Blue = 0x0000AA, Green = 0x00AA00, Cyan = 0x00AAAA, Red = 0xAA0000, Black = 0;

    private readonly byte[] _vram = new byte[16 * 1024 * 1024];
    private readonly LegacyVgaDriver _vga;
    private readonly LegacyVgaScreen _screen = new();

    public LegacyVgaGraphicsTests()
    {
        _vga = new LegacyVgaDriver(new StdVga(_vram));
    }

    private uint Pixel(int x, int y) =>
        BinaryPrimitives.ReadUInt32LittleEndian(_screen.Memory[((y * _screen.Mode.Stride) + (x * 4))..]) & 0xFFFFFF;

    private void Refresh() => _screen.Refresh(_vga.Vga, cursorOn: false, blinkOn: true);

    /// <summary>Writes <paramref name="value"/> at a planar byte offset into the planes of <paramref name="mapMask"/>.</summary>
    private void PutPlanes(byte mapMask, int offset, byte value)
    {
        _vga.Seq(0x02, mapMask);
        _vga.Poke(offset, value);
        _vga.Seq(0x02, 0x0F);
    }

    [Fact]
    public void Mode_12h_is_640_by_480_each_pixel_a_colour_from_one_bit_of_each_plane()
    {
        _vga.SetMode12h();
        PutPlanes(0x01, 0, 0x80);                  // (0,0) colour 1
        PutPlanes(0x04, 1, 0x01);                  // (15,0) colour 4
        PutPlanes(0x05, (479 * 80) + 79, 0x01);    // (639,479) colour 5: planes 0 and 2
        PutPlanes(0x02, 80, 0x40);                 // (1,1) colour 2

        Refresh();

        _screen.Mode.Should().Be(new DisplayMode(true, false, 640, 480, 32, 640 * 4, 0, false));
        Pixel(0, 0).Should().Be(Blue, "bit 7 of plane 0's first byte is the top left pixel's colour bit 0");
        Pixel(1, 0).Should().Be(Black);
        Pixel(15, 0).Should().Be(Red);
        Pixel(1, 1).Should().Be(Green);
        _vga.Dac(0x05, 0x3F, 0x00, 0x3F);
        Refresh();
        Pixel(639, 479).Should().Be(0xFF00FFu, "colour 5 through palette register 5 to the DAC entry just changed");
    }

    [Fact]
    public void The_colour_plane_enable_register_hides_planes()
    {
        _vga.SetMode12h();
        PutPlanes(0x03, 0, 0x80);                  // (0,0) colour 3

        _vga.Attr(0x12, 0x0E);
        Refresh();
        Pixel(0, 0).Should().Be(Green, "plane 0 is disabled: colour 3 shows as 2");

        _vga.Attr(0x12, 0x0F);
        Refresh();
        Pixel(0, 0).Should().Be(Cyan);
    }

    [Fact]
    public void A_write_redraws_only_the_lines_on_the_pages_it_touched()
    {
        _vga.SetMode12h();
        Refresh();
        Span<ulong> pages = stackalloc ulong[(640 * 480 * 4 / 4096 + 63) / 64];
        _screen.TakeDirtyPages(pages).Should().BeFalse("the first picture is compared whole");
        _screen.LinesDrawn.Should().Be(480);

        Refresh();
        _screen.Refresh(_vga.Vga, cursorOn: true, blinkOn: false);
        _screen.IdleRefreshes.Should().Be(2, "nothing was written, and graphics modes neither blink nor show a cursor");

        PutPlanes(0x01, (300 * 80) + 10, 0xFF);
        Refresh();

        // Line 300 is video memory bytes 96000-96319, page 23 (94208-98303): lines 294-307 lie on it.
        _screen.LinesDrawn.Should().Be(14);
        Pixel(80, 300).Should().Be(Blue);
        pages.Clear();
        _screen.TakeDirtyPages(pages).Should().BeTrue();
        int lastPage = ((640 * 480 * 4) - 1) / 4096;
        for (int page = 0; page <= lastPage; page++)
        {
            bool expected = page >= 294 * 640 * 4 / 4096 && page <= ((308 * 640 * 4) - 1) / 4096;
            bool dirty = (pages[page / 64] & (1UL << (page % 64))) != 0;
            dirty.Should().Be(expected, $"page {page} of the picture {(expected ? "holds" : "does not hold")} a redrawn line");
        }
    }

    [Fact]
    public void Mode_0Dh_doubles_scan_lines_and_halves_the_dot_clock_yet_draws_each_pixel_once_at_320_by_200()
    {
        _vga.SetMode12h();
        _vga.Seq(0x01, 0x09);
        _vga.Crtc(0x01, 0x27);
        _vga.Crtc(0x07, 0x1F);
        _vga.Crtc(0x09, 0xC0);
        _vga.Crtc(0x12, 0x8F);
        _vga.Crtc(0x13, 0x14);
        PutPlanes(0x04, (199 * 40) + 39, 0x01);    // (319,199) colour 4

        Refresh();

        _screen.Mode.Width.Should().Be(320);
        _screen.Mode.Height.Should().Be(200);
        Pixel(319, 199).Should().Be(Red);
        Pixel(318, 199).Should().Be(Black);
    }

    [Fact]
    public void Mode_04h_draws_two_bits_a_pixel_with_odd_lines_from_the_bank_at_0x2000()
    {
        _vga.SetMode04h();
        int window = LegacyVgaDriver.TextWindow;
        _vga.Poke(window, 0x1B);                   // line 0: colours 0 1 2 3
        _vga.Poke(window + 1, 0xC0);               // line 0, pixel 4: colour 3 (the odd byte is plane 1)
        _vga.Poke(window + 0x2000, 0x10);          // line 1, pixel 1: colour 1
        _vga.Poke(window + 0x2000 + (99 * 80) + 79, 0x03); // line 199, pixel 319: colour 3

        Refresh();

        _screen.Mode.Should().Be(new DisplayMode(true, false, 320, 200, 32, 320 * 4, 0, false));
        Enumerable.Range(0, 5).Select(x => Pixel(x, 0)).Should().Equal(Black, Blue, Green, Cyan, Cyan);
        Pixel(0, 1).Should().Be(Black);
        Pixel(1, 1).Should().Be(Blue, "odd lines come from the second bank");
        Pixel(1, 2).Should().Be(Black, "line 2 is the even bank's second row");
        Pixel(319, 199).Should().Be(Cyan);
    }

    [Fact]
    public void Unchained_256_colour_mode_X_is_scanned_out_with_pixel_x_in_plane_x_mod_4_as_QEMU_shows_it()
    {
        _vga.SetMode12h();
        _vga.Gfx(0x05, 0x40);                      // 256-colour shift, chain-4 off: mode X
        _vga.Crtc(0x01, 0x4F);
        _vga.Crtc(0x09, 0x41);
        _vga.Crtc(0x12, 0xDF);                     // 480 scan lines of 2: 320x240
        _vga.Crtc(0x13, 0x28);
        Refresh();
        Span<ulong> pages = stackalloc ulong[64];
        _screen.TakeDirtyPages(pages);

        PutPlanes(0x02, (239 * 80) + 79, 0x3F);    // pixel (317, 239): plane 1 of the line's last word

        Refresh();

        _screen.Mode.Should().Be(new DisplayMode(true, false, 320, 240, 8, 320, 0, false));
        _screen.Memory[(239 * 320) + 317].Should().Be(0x3F);
        pages.Clear();
        _screen.TakeDirtyPages(pages).Should().BeTrue();
        pages[0].Should().Be(1UL << (((239 * 320) + 317) / 4096), "the write marked its page of video memory");
    }

    [Fact]
    public void Line_compare_starts_the_lower_part_of_a_split_screen_at_address_0()
    {
        _vga.SetMode12h();
        PutPlanes(0x01, 0, 0x80);                  // memory line 0: (0,0) blue
        PutPlanes(0x04, 100 * 80, 0x80);           // memory line 100: red
        _vga.Crtc(0x0C, (100 * 80) >> 8);
        _vga.Crtc(0x0D, (100 * 80) & 0xFF);        // the screen starts at memory line 100
        _vga.Crtc(0x18, 239);
        _vga.Crtc(0x07, 0x2E);                     // line compare bit 8 clear
        _vga.Crtc(0x09, 0x00);                     // and bit 9: split after displayed line 239

        Refresh();

        Pixel(0, 0).Should().Be(Red);
        Pixel(0, 240).Should().Be(Blue);
    }

    [Fact]
    public void Registers_a_guest_misprograms_never_make_the_screen_read_or_draw_outside_its_memory()
    {
        var random = new Random(15);
        _vga.SetMode12h();
        for (int round = 0; round < 300; round++)
        {
            _vga.Crtc(random.Next(0x19), (byte)random.Next(256));
            _vga.Gfx(random.Next(9), (byte)random.Next(256));
            _vga.Seq(1 + random.Next(4), (byte)random.Next(256));
            _vga.Attr(random.Next(0x15), (byte)random.Next(256));
            _vga.Gfx(0x06, (byte)(random.Next(256) | 0x01));   // stay in graphics mode
            _vga.Poke(random.Next(0x20000), (byte)random.Next(256));

            Refresh();

            DisplayMode mode = _screen.Mode;
            if (mode.Enabled && !mode.Blanked)
            {
                long needed = mode.StartOffset + ((long)mode.Stride * (mode.Height - 1)) + (mode.Width * mode.BytesPerPixel);
                _screen.Memory.Length.Should().BeGreaterThanOrEqualTo((int)needed, $"round {round}: {mode}");
            }
        }
    }
}
