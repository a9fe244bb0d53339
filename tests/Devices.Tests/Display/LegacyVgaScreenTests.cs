using System.Buffers.Binary;
using Platform.Devices.Display;

namespace Platform.Devices.Tests.Display;

// Text mode and mode 13h as the display server gets them from LegacyVgaScreen, after programming the std-vga as the
// VGA BIOS does. Colours: blue is DAC 1 (0,0,0x2A → 0x0000AA), bright white DAC 0x3F (→ 0xFFFFFF).
public sealed class LegacyVgaScreenTests
{
    private const uint Blue = 0x0000AA, White = 0xFFFFFF, Black = 0;

    private readonly byte[] _vram = new byte[16 * 1024 * 1024];
    private readonly LegacyVgaDriver _vga;
    private readonly LegacyVgaScreen _screen = new();

    public LegacyVgaScreenTests()
    {
        _vga = new LegacyVgaDriver(new StdVga(_vram));
        _vga.SetTextMode3();
        // 'A': a dot at the left of row 0 and at the right of row 1; 0xC4 (─): row 0 full, for the ninth column.
        _vga.LoadGlyph('A', 0x80, 0x01);
        _vga.LoadGlyph(0xC4, 0xFF);
    }

    private uint Pixel(int x, int y) =>
        BinaryPrimitives.ReadUInt32LittleEndian(_screen.Memory[((y * _screen.Mode.Stride) + (x * 4))..]) & 0xFFFFFF;

    private void Refresh(bool cursorOn = false, bool blinkOn = true) => _screen.Refresh(_vga.Vga, cursorOn, blinkOn);

    [Fact]
    public void Mode_3_is_720_by_400_drawn_from_the_font_in_plane_2_and_the_attribute_colours()
    {
        _vga.PutCell(0, 0, 'A', 0x1F);

        Refresh();

        _screen.Mode.Should().Be(new DisplayMode(true, false, 720, 400, 32, 720 * 4, 0, false));
        Pixel(0, 0).Should().Be(White, "the glyph's leftmost dot in the foreground (attribute 0xF)");
        Pixel(1, 0).Should().Be(Blue, "background 1");
        Pixel(7, 1).Should().Be(White);
        Pixel(8, 1).Should().Be(Blue, "the ninth column is background for ordinary characters");
        Pixel(9, 0).Should().Be(Black, "the next cell is character 0 on attribute 0");
    }

    [Fact]
    public void Line_drawing_characters_repeat_their_eighth_dot_in_the_ninth_column()
    {
        _vga.PutCell(0, 0, (char)0xC4, 0x1F);

        Refresh();

        Pixel(8, 0).Should().Be(White);
    }

    [Fact]
    public void An_unchanged_screen_is_not_drawn_again_and_one_changed_cell_redraws_one_cell()
    {
        _vga.PutCell(0, 0, 'A', 0x1F);
        Refresh();
        Span<ulong> pages = stackalloc ulong[(720 * 400 * 4 / 4096 + 1 + 63) / 64];
        _screen.TakeDirtyPages(pages).Should().BeFalse("the first picture is compared whole");

        Refresh();
        _screen.IdleRefreshes.Should().Be(1);
        pages.Clear();
        _screen.TakeDirtyPages(pages).Should().BeTrue();
        pages.ToArray().Should().OnlyContain(p => p == 0);

        _vga.PutCell(24, 79, 'A', 0x1F);
        Refresh();

        _screen.CellsDrawn.Should().Be(1);
        _screen.TakeDirtyPages(pages).Should().BeTrue();
        int firstPage = (((24 * 16) * 720 * 4) + (79 * 9 * 4)) / 4096;
        int lastPage = ((720 * 400 * 4) - 1) / 4096;
        for (int page = 0; page <= lastPage; page++)
        {
            bool dirty = (pages[page / 64] & (1UL << (page % 64))) != 0;
            dirty.Should().Be(page >= firstPage, $"page {page} holds {(page >= firstPage ? "the" : "no")} changed cell");
        }

        Pixel(79 * 9, 24 * 16).Should().Be(White);
    }

    [Fact]
    public void The_cursor_covers_its_scan_lines_in_the_foreground_when_its_phase_is_on()
    {
        _vga.PutCell(0, 1, ' ', 0x1F);
        _vga.Crtc(0x0F, 0x01);

        Refresh(cursorOn: true);
        Pixel(9 + 4, 13).Should().Be(White);
        Pixel(9 + 4, 12).Should().Be(Blue);

        Refresh(cursorOn: false);
        Pixel(9 + 4, 13).Should().Be(Blue);
        _screen.CellsDrawn.Should().Be(1);
    }

    [Fact]
    public void Blinking_characters_vanish_in_the_off_phase_and_their_background_stays_dark()
    {
        _vga.PutCell(0, 0, 'A', 0x9F);

        Refresh(blinkOn: true);
        Pixel(0, 0).Should().Be(White);
        Pixel(1, 0).Should().Be(Blue, "with blinking on, attribute bit 7 blinks rather than brightening background 1");

        Refresh(blinkOn: false);
        Pixel(0, 0).Should().Be(Blue);
    }

    [Fact]
    public void Eighty_by_fifty_uses_eight_line_cells_in_the_same_720_by_400()
    {
        _vga.Crtc(0x09, 0x47);
        _vga.PutCell(49, 0, 'A', 0x1F);

        Refresh();

        _screen.Mode.Width.Should().Be(720);
        _screen.Mode.Height.Should().Be(400);
        Pixel(0, 49 * 8).Should().Be(White);
    }

    [Fact]
    public void Video_output_off_blanks_the_screen_and_a_new_font_redraws_it()
    {
        _vga.PutCell(0, 0, 'A', 0x1F);
        Refresh();

        _vga.LoadGlyph('A', 0x00, 0x00);
        Refresh();
        Pixel(0, 0).Should().Be(Blue, "the glyph now has no dots");

        _vga.In(0x3DA);
        _vga.Out(0x3C0, 0x00);
        Refresh();
        _screen.Mode.Blanked.Should().BeTrue();
    }

    [Fact]
    public void Mode_13h_is_320_by_200_at_8_bits_scanned_out_of_video_memory()
    {
        _vga.Seq(0x01, 0x01);
        _vga.Seq(0x04, 0x0E);
        _vga.Gfx(0x05, 0x40);
        _vga.Gfx(0x06, 0x05);
        _vga.Seq(0x02, 0x0F);
        _vga.Crtc(0x09, 0x41);
        _vga.Attr(0x10, 0x41);
        Refresh();
        Span<ulong> pages = stackalloc ulong[64];
        _screen.TakeDirtyPages(pages);

        _vga.Poke((199 * 320) + 319, 0x3F);
        Refresh();

        _screen.Mode.Should().Be(new DisplayMode(true, false, 320, 200, 8, 320, 0, false));
        _screen.Memory[(199 * 320) + 319].Should().Be(0x3F);
        pages.Clear();
        _screen.TakeDirtyPages(pages).Should().BeTrue();
        pages[0].Should().Be(1UL << (((199 * 320) + 319) / 4096));
    }
}
