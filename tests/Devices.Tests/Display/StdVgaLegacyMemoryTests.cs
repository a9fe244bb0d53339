using Platform.Devices.Display;

namespace Platform.Devices.Tests.Display;

// The legacy window's planar memory model through ports and window accesses, as vgabios-stdvga and DOS-era programs
// use it. Plane p of word w is video memory byte 4w + p, as in QEMU's vga.c.
public sealed class StdVgaLegacyMemoryTests
{
    private readonly byte[] _vram = new byte[16 * 1024 * 1024];
    private readonly LegacyVgaDriver _vga;

    public StdVgaLegacyMemoryTests()
    {
        _vga = new LegacyVgaDriver(new StdVga(_vram));
    }

    /// <summary>Planar access at 0xA0000 (64 KiB), all planes, write mode 0, no rotate, bit mask all.</summary>
    private void Planar()
    {
        _vga.Seq(0x02, 0x0F);
        _vga.Seq(0x04, 0x06);
        _vga.Gfx(0x05, 0x00);
        _vga.Gfx(0x06, 0x05);
        _vga.Gfx(0x08, 0xFF);
    }

    [Fact]
    public void Text_mode_odd_even_puts_characters_in_plane_0_and_attributes_in_plane_1()
    {
        _vga.CloseFontPlane();

        _vga.Poke(LegacyVgaDriver.TextWindow, (byte)'A');
        _vga.Poke(LegacyVgaDriver.TextWindow + 1, 0x1F);
        _vga.Poke(LegacyVgaDriver.TextWindow + 2, (byte)'B');

        _vram[0..2].Should().Equal((byte)'A', 0x1F);
        _vram[4].Should().Be((byte)'B', "the next character is the next 32-bit word");
        _vga.Peek(LegacyVgaDriver.TextWindow + 1).Should().Be(0x1F);
    }

    [Fact]
    public void A_font_written_with_plane_2_open_lands_in_plane_2_only()
    {
        _vram[(0x41 * 32 * 4) + 0] = 0x55;
        _vga.OpenFontPlane();
        _vga.Gfx(0x08, 0xFF);

        _vga.Poke(0x41 * 32, 0x7E);

        _vram[((0x41 * 32) * 4)..((0x41 * 32 * 4) + 4)].Should().Equal(0x55, 0, 0x7E, 0);
        _vga.Peek(0x41 * 32).Should().Be(0x7E, "read map select 2 reads plane 2");
    }

    [Fact]
    public void Chain_4_maps_byte_addresses_straight_through_under_the_map_mask()
    {
        _vga.Seq(0x04, 0x0E);
        _vga.Gfx(0x06, 0x05);
        _vga.Seq(0x02, 0x0F);

        _vga.Poke(5, 0x42);
        _vga.Seq(0x02, 0x0E);
        _vga.Poke(4, 0x99); // plane 0 masked off

        _vram[5].Should().Be(0x42);
        _vram[4].Should().Be(0);
        _vga.Peek(5).Should().Be(0x42);
    }

    [Fact]
    public void Write_mode_0_applies_set_reset_and_bit_mask_over_the_latches()
    {
        Planar();
        _vga.Poke(0, 0xFF);
        _vga.Peek(0); // loads the latches: FF FF FF FF
        _vga.Gfx(0x00, 0x05);
        _vga.Gfx(0x01, 0x0F);
        _vga.Gfx(0x08, 0x0F);

        _vga.Poke(0, 0x00);

        _vram[0..4].Should().Equal(0xFF, 0xF0, 0xFF, 0xF0);
    }

    [Fact]
    public void Write_mode_0_rotates_and_applies_the_logical_function()
    {
        Planar();
        _vga.Gfx(0x03, 0x01); // rotate right by 1
        _vga.Poke(0, 0x01);
        _vram[0].Should().Be(0x80);

        _vga.Peek(0);
        _vga.Gfx(0x03, 0x18); // XOR with the latches, no rotate
        _vga.Poke(0, 0x81);
        _vram[0..4].Should().Equal(0x01, 0x01, 0x01, 0x01);
    }

    [Fact]
    public void Write_mode_1_copies_the_latches()
    {
        Planar();
        _vram.AsSpan(0, 4).SetTo([1, 2, 3, 4]);
        _vga.Peek(0);
        _vga.Gfx(0x05, 0x01);

        _vga.Poke(1, 0x00);

        _vram[4..8].Should().Equal(1, 2, 3, 4);
    }

    [Fact]
    public void Write_mode_2_spreads_a_colour_over_the_bit_mask()
    {
        Planar();
        _vga.Gfx(0x05, 0x02);
        _vga.Gfx(0x08, 0x80);
        _vga.Peek(2);

        _vga.Poke(2, 0x09);

        _vram[8..12].Should().Equal(0x80, 0x00, 0x00, 0x80);
    }

    [Fact]
    public void Write_mode_3_masks_the_set_reset_colour_with_the_rotated_data()
    {
        Planar();
        _vga.Gfx(0x05, 0x03);
        _vga.Gfx(0x00, 0x0C);
        _vga.Peek(3);

        _vga.Poke(3, 0x0F);

        _vram[12..16].Should().Equal(0x00, 0x00, 0x0F, 0x0F);
    }

    [Fact]
    public void The_map_mask_limits_a_planar_write_to_its_planes()
    {
        Planar();
        _vga.Seq(0x02, 0x02);

        _vga.Poke(0, 0xAA);

        _vram[0..4].Should().Equal(0x00, 0xAA, 0x00, 0x00);
    }

    [Fact]
    public void Read_mode_0_reads_the_selected_plane_and_read_mode_1_compares_colours()
    {
        Planar();
        _vram.AsSpan(0, 4).SetTo([0xFF, 0xF0, 0xFF, 0xF0]);
        _vga.Gfx(0x04, 0x01);
        _vga.Peek(0).Should().Be(0xF0);

        _vga.Gfx(0x05, 0x08);
        _vga.Gfx(0x02, 0x05); // colour 0101
        _vga.Gfx(0x07, 0x0F);
        _vga.Peek(0).Should().Be(0x0F, "only the low four pixels have colour 0101");

        _vga.Gfx(0x07, 0x00);
        _vga.Peek(0).Should().Be(0xFF, "no plane cares, so every pixel matches");
    }

    [Fact]
    public void Accesses_outside_the_selected_map_read_all_ones_and_are_dropped_and_counted()
    {
        _vga.CloseFontPlane(); // 0xB8000 only

        _vga.Poke(0x100, 0x12);

        _vga.Peek(0x100).Should().Be(0xFF);
        _vram.AsSpan().IndexOfAnyExcept((byte)0).Should().Be(-1);
        _vga.Vga.UnmappedWindowAccesses.Should().Be(2);
    }

    [Fact]
    public void Nonsense_widths_and_offsets_are_counted_never_thrown()
    {
        _vga.Vga.LegacyWindow.Write(0, new byte[3]);
        _vga.Vga.LegacyWindow.Write(StdVga.LegacyWindowSize - 1, new byte[2]);
        byte[] read = new byte[16];
        _vga.Vga.LegacyWindow.Read(0, read);

        _vga.Vga.BadAccesses.Should().Be(3);
        read.Should().OnlyContain(b => b == 0xFF);
    }

    [Fact]
    public void A_wide_access_is_bytes_in_ascending_order_and_window_writes_mark_pages()
    {
        _vga.CloseFontPlane();
        _vga.Vga.TakeLegacyDirtyPages();

        _vga.Vga.LegacyWindow.Write(LegacyVgaDriver.TextWindow + 0x2000, [(byte)'x', 0x07, (byte)'y', 0x70]);

        _vram[0x4000..0x4006].Should().Equal((byte)'x', 0x07, 0, 0, (byte)'y', 0x70);
        _vga.Vga.TakeLegacyDirtyPages().Should().Be(1UL << 4);
        _vga.Vga.TakeLegacyDirtyPages().Should().Be(0);
    }
}

file static class SpanFill
{
    public static void SetTo(this Span<byte> span, byte[] values) => values.CopyTo(span);
}
