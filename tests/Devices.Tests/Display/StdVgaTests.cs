using System.Buffers.Binary;
using Platform.Devices.Display;

namespace Platform.Devices.Tests.Display;

// Drives the std-vga as Linux's bochs DRM driver, QEMU's VGA BIOS and our test guests do: DISPI through ports
// 0x1CE/0x1CF (offsets 0 and 1) or through the MMIO BAR at 0x500 + 2n, VGA ports through 0x3C0+ or MMIO 0x400+.
public sealed class StdVgaTests
{
    private const int Id = 0, XRes = 1, YRes = 2, Bpp = 3, Enable = 4, Bank = 5, VirtWidth = 6, VirtHeight = 7,
        XOffset = 8, YOffset = 9, VideoMemory64K = 10;
    private const ushort Enabled = 0x01, GetCaps = 0x02, Dac8Bit = 0x20, Lfb = 0x40, NoClearMem = 0x80;
    private const int MiB = 1024 * 1024;

    private readonly byte[] _vram = new byte[16 * MiB];
    private readonly StdVga _vga;
    private readonly List<DisplayMode> _modeEvents = [];

    public StdVgaTests()
    {
        _vga = new StdVga(_vram);
        _vga.ModeChanged += (_, mode) => _modeEvents.Add(mode);
    }

    private void OutW(ulong port, ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, value);
        _vga.DispiPorts.Write(port - StdVga.DispiPortBase, b);
    }

    private ushort InW(ulong port)
    {
        Span<byte> b = stackalloc byte[2];
        _vga.DispiPorts.Read(port - StdVga.DispiPortBase, b);
        return BinaryPrimitives.ReadUInt16LittleEndian(b);
    }

    private void DispiWrite(int register, ushort value)
    {
        OutW(0x1CE, (ushort)register);
        OutW(0x1CF, value);
    }

    private ushort DispiRead(int register)
    {
        OutW(0x1CE, (ushort)register);
        return InW(0x1CF);
    }

    private void MmioWrite(ulong offset, uint value, int width)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        _vga.MmioRegisters.Write(offset, b[..width]);
    }

    private uint MmioRead(ulong offset, int width)
    {
        Span<byte> b = stackalloc byte[4];
        b.Clear();
        _vga.MmioRegisters.Read(offset, b[..width]);
        return BinaryPrimitives.ReadUInt32LittleEndian(b);
    }

    private void OutB(ulong port, byte value) => _vga.VgaPorts.Write(port - StdVga.VgaPortBase, [value]);

    private byte InB(ulong port)
    {
        Span<byte> b = stackalloc byte[1];
        _vga.VgaPorts.Read(port - StdVga.VgaPortBase, b);
        return b[0];
    }

    /// <summary>What bochs_hw_setmode does, through the MMIO BAR (Linux prefers it when BAR 2 exists).</summary>
    private void LinuxSetMode(int width, int height)
    {
        _ = MmioRead(0x400 + 0x1A, 1);       // discard the attribute flip-flop (read 0x3DA)
        MmioWrite(0x400, 0x20, 1);           // attribute index with video on
        void Reg(int n, int v) => MmioWrite(0x500 + (ulong)(n * 2), (uint)v, 2);
        int stride = width * 4;
        Reg(Enable, 0);
        Reg(Bpp, 32);
        Reg(XRes, width);
        Reg(YRes, height);
        Reg(Bank, 0);
        Reg(VirtWidth, width);
        Reg(VirtHeight, _vram.Length / stride);
        Reg(XOffset, 0);
        Reg(YOffset, 0);
        Reg(Enable, Enabled | Lfb);
    }

    [Fact]
    public void Id_reads_0xB0C5_and_accepts_only_the_interface_versions()
    {
        DispiRead(Id).Should().Be(0xB0C5, "QEMU resets the id to the newest interface version");
        DispiWrite(Id, 0xB0C0);
        DispiRead(Id).Should().Be(0xB0C0);
        DispiWrite(Id, 0xB0C6);
        DispiWrite(Id, 0x1234);
        DispiRead(Id).Should().Be(0xB0C0, "other values are not interface versions");
        _vga.IgnoredWrites.Should().Be(2);
        InW(0x1CE).Should().Be(Id, "the index register reads back");
    }

    [Theory]
    [InlineData(16, 256)]
    [InlineData(4, 64)]
    [InlineData(1, 16)]
    public void Video_memory_register_counts_64K_units_and_is_read_only(int megabytes, int units)
    {
        var vga = new StdVga(new byte[megabytes * MiB]);
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, VideoMemory64K);
        vga.DispiPorts.Write(0, b);
        BinaryPrimitives.WriteUInt16LittleEndian(b, 1);
        vga.DispiPorts.Write(1, b);
        vga.DispiPorts.Read(1, b);
        BinaryPrimitives.ReadUInt16LittleEndian(b).Should().Be((ushort)units);
        vga.IgnoredWrites.Should().Be(1);
        vga.Mode.Should().Be(DisplayMode.PowerOn);
    }

    [Theory]
    [InlineData(3 * MiB)]
    [InlineData(512 * 1024)]
    [InlineData(512 * MiB)]
    public void Video_memory_must_be_a_power_of_two_BAR_size(int size)
    {
        var create = () => new StdVga(new byte[size]);
        create.Should().Throw<ArgumentException>().WithMessage("*power of two*");
    }

    [Theory]
    [InlineData(640, 480)]
    [InlineData(800, 600)]
    [InlineData(1024, 768)]
    [InlineData(1280, 1024)]
    [InlineData(1920, 1080)]
    [InlineData(2560, 1600)]
    public void Linux_bochs_driver_sets_a_32_bpp_mode(int width, int height)
    {
        LinuxSetMode(width, height);

        _vga.Mode.Should().Be(new DisplayMode(true, false, width, height, 32, width * 4, 0, false));
        _vga.Mode.Visible.Should().BeTrue();
        _modeEvents.Should().NotBeEmpty().And.Subject.Last().Should().Be(_vga.Mode);
        _vga.AdjustedValues.Should().Be(0);
        _vga.BadAccesses.Should().Be(0);
        MmioRead(0x500 + (VirtHeight * 2), 2).Should().Be((uint)(_vram.Length / (width * 4)));
    }

    [Fact]
    public void Enabling_raises_one_mode_event_and_disabling_keeps_the_geometry()
    {
        LinuxSetMode(1024, 768);
        _modeEvents.Clear();
        DispiWrite(Enable, 0);
        _modeEvents.Should().ContainSingle().Which.Should().Be(
            new DisplayMode(false, false, 1024, 768, 32, 4096, 0, false), "a viewer need not resize for a disable/enable pair");
        _vga.Mode.Visible.Should().BeFalse();

        DispiWrite(Bpp, 16);
        DispiWrite(XRes, 800);
        DispiWrite(YRes, 600);
        _modeEvents.Should().ContainSingle("registers written while disabled do not change what is shown");
        DispiWrite(Enable, Enabled | Lfb);
        _modeEvents.Should().HaveCount(2);
        _vga.Mode.Should().Be(new DisplayMode(true, false, 800, 600, 16, 1600, 0, false));
    }

    [Fact]
    public void Enable_clears_the_visible_lines_unless_NOCLEARMEM()
    {
        _vram.AsSpan().Fill(0xAB);
        DispiWrite(Bpp, 32);
        DispiWrite(XRes, 640);
        DispiWrite(YRes, 480);
        DispiWrite(Enable, Enabled | Lfb);
        _vram.AsSpan(0, 640 * 480 * 4).ToArray().Should().OnlyContain(b => b == 0);
        _vram[640 * 480 * 4].Should().Be(0xAB, "only yres * line length bytes are cleared, as QEMU does");

        DispiWrite(Enable, 0);
        _vram.AsSpan().Fill(0xCD);
        DispiWrite(Enable, Enabled | Lfb | NoClearMem);
        _vram.Should().OnlyContain(b => b == 0xCD);
    }

    [Fact]
    public void Re_enabling_an_enabled_mode_neither_clears_nor_resets_panning()
    {
        LinuxSetMode(640, 480);
        DispiWrite(YOffset, 10);
        _vram[0] = 0x77;
        DispiWrite(Enable, Enabled | Lfb);
        _vram[0].Should().Be(0x77);
        DispiRead(YOffset).Should().Be(10);
    }

    [Fact]
    public void Getcaps_reports_the_maximum_resolution_and_depth()
    {
        DispiWrite(XRes, 1024);
        DispiWrite(Enable, GetCaps);
        DispiRead(XRes).Should().Be(StdVga.MaxXResolution);
        DispiRead(YRes).Should().Be(StdVga.MaxYResolution);
        DispiRead(Bpp).Should().Be(32);
        DispiWrite(Enable, 0);
        DispiRead(XRes).Should().Be(1024, "the written value is kept underneath");
    }

    [Theory]
    [InlineData(1366, 768, 32, 1360, 768, 32)]        // widths go to a multiple of 8
    [InlineData(0, 0, 32, 8, 1, 32)]                  // zero becomes the smallest mode
    [InlineData(640, 480, 12, 640, 480, 8)]           // an unknown depth becomes 8
    [InlineData(20000, 480, 8, 16000, 480, 8)]        // past the maximum width
    [InlineData(4096, 4096, 32, 4096, 1024, 32)]      // only what fits in 16 MiB
    [InlineData(640, 480, 15, 640, 480, 15)]          // 15 bpp is kept, stored in 16 bits
    [InlineData(640, 480, 24, 640, 480, 24)]
    [InlineData(640, 480, 4, 640, 480, 4)]            // planar: accepted as QEMU does, not drawn
    public void Bad_mode_values_are_adjusted_as_QEMU_does(int x, int y, int bpp, int ex, int ey, int ebpp)
    {
        _ = InB(0x3DA);
        OutB(0x3C0, 0x20);
        DispiWrite(Bpp, (ushort)bpp);
        DispiWrite(XRes, (ushort)x);
        DispiWrite(YRes, (ushort)y);
        DispiRead(XRes).Should().Be((ushort)x, "nothing is adjusted while VBE is off");
        DispiWrite(Enable, Enabled | Lfb);

        DispiRead(XRes).Should().Be((ushort)ex);
        DispiRead(YRes).Should().Be((ushort)ey);
        DispiRead(Bpp).Should().Be((ushort)ebpp);
        DisplayMode mode = _vga.Mode;
        (mode.Width, mode.Height, mode.BitsPerPixel).Should().Be((ex, ey, ebpp));
        mode.Stride.Should().Be(ex * (ebpp == 15 ? 16 : ebpp) / 8);
        _vga.AdjustedValues.Should().Be(x == ex && y == ey && bpp == ebpp ? 0 : 1);
        mode.Visible.Should().Be(ebpp != 4);
    }

    [Fact]
    public void Writes_while_enabled_are_adjusted_at_once()
    {
        LinuxSetMode(1024, 768);
        DispiWrite(XRes, 1023);
        DispiRead(XRes).Should().Be(1016);
        DispiRead(VirtWidth).Should().Be(1024, "the virtual width stays at least the visible width");
        _vga.AdjustedValues.Should().Be(1);
        DispiWrite(VirtWidth, 100);
        DispiRead(VirtWidth).Should().Be(1016);
        _vga.Mode.Stride.Should().Be(1016 * 4);
    }

    [Fact]
    public void Panning_moves_the_start_offset_and_is_dropped_when_it_would_run_past_video_memory()
    {
        LinuxSetMode(1024, 768);
        // bochs_hw_setbase: a 2048-pixel-wide virtual screen, shown from (8, 100).
        DispiWrite(VirtWidth, 2048);
        DispiWrite(XOffset, 8);
        DispiWrite(YOffset, 100);
        _vga.Mode.Stride.Should().Be(8192);
        _vga.Mode.StartOffset.Should().Be((100 * 8192) + (8 * 4));

        DispiWrite(YOffset, 1500); // 1500 + 768 lines of 8 KiB > 16 MiB
        DispiRead(YOffset).Should().Be(0);
        DispiRead(XOffset).Should().Be(8);
        _vga.Mode.StartOffset.Should().Be(32);
        _vga.AdjustedValues.Should().Be(1);
    }

    [Fact]
    public void Virtual_height_is_computed_not_written()
    {
        LinuxSetMode(1024, 768);
        long ignored = _vga.IgnoredWrites;
        DispiWrite(VirtHeight, 5);
        DispiRead(VirtHeight).Should().Be(4096, "16 MiB / 4096 bytes per line");
        _vga.IgnoredWrites.Should().Be(ignored + 1);
    }

    [Fact]
    public void Bank_is_masked_to_the_64K_windows_video_memory_has()
    {
        DispiWrite(Bank, 0xFFFF);
        DispiRead(Bank).Should().Be(255);
    }

    [Fact]
    public void Registers_past_the_last_read_as_zero_and_ignore_writes()
    {
        DispiWrite(0x0B, 0x1234);
        DispiRead(0x0B).Should().Be(0);
        DispiWrite(0xFFFF, 1);
        DispiRead(0xFFFF).Should().Be(0);
        _vga.IgnoredWrites.Should().Be(2);
    }

    [Fact]
    public void Data_port_alias_at_0x1D0_answers_like_0x1CF()
    {
        OutW(0x1CE, XRes);
        OutW(0x1D0, 800);
        InW(0x1CF).Should().Be(800);
        InW(0x1D0).Should().Be(800);
    }

    [Fact]
    public void Byte_and_dword_accesses_to_the_DISPI_ports_are_counted_and_read_zero()
    {
        _vga.DispiPorts.Write(0, [4]);
        Span<byte> one = stackalloc byte[1];
        one[0] = 0xFF;
        _vga.DispiPorts.Read(1, one);
        one[0].Should().Be(0);
        Span<byte> four = stackalloc byte[4];
        _vga.DispiPorts.Read(0, four);
        Span<byte> two = stackalloc byte[2];
        _vga.DispiPorts.Read(3, two);
        _vga.BadAccesses.Should().Be(4);
        InW(0x1CE).Should().Be(0, "the byte write did not reach the index register");
    }

    [Fact]
    public void Mmio_register_access_selects_the_index_as_QEMU_does()
    {
        MmioWrite(0x500 + (XRes * 2), 1280, 2);
        InW(0x1CE).Should().Be(XRes);
        InW(0x1CF).Should().Be(1280);
        MmioRead(0x500 + (Id * 2), 2).Should().Be(0xB0C5u);
        InW(0x1CE).Should().Be(Id);
    }

    [Fact]
    public void Mmio_dword_access_reaches_two_registers_and_byte_access_one()
    {
        MmioWrite(0x500 + (XRes * 2), 1024u | (768u << 16), 4);
        DispiRead(XRes).Should().Be(1024);
        DispiRead(YRes).Should().Be(768);
        MmioRead(0x500 + (XRes * 2), 4).Should().Be(1024u | (768u << 16));
        MmioWrite(0x500 + (Bpp * 2), 24, 1);
        MmioRead(0x500 + (Bpp * 2), 1).Should().Be(24u);
        MmioRead(0x500 + (VideoMemory64K * 2), 2).Should().Be(256u);
    }

    [Fact]
    public void Qemu_extension_registers_report_their_size_and_switch_byte_order()
    {
        MmioRead(0x600, 4).Should().Be(8u);
        MmioRead(0x604, 4).Should().Be(0x1E1E1E1Eu);
        LinuxSetMode(640, 480);
        _modeEvents.Clear();

        MmioWrite(0x604, 0xBEBEBEBE, 4);
        MmioRead(0x604, 4).Should().Be(0xBEBEBEBEu);
        _vga.Mode.BigEndian.Should().BeTrue();
        _modeEvents.Should().ContainSingle();
        MmioWrite(0x604, 0x12345678, 4);
        _vga.Mode.BigEndian.Should().BeTrue("only the two magic values switch");
        MmioWrite(0x604, 0x1E1E1E1E, 4);
        _vga.Mode.BigEndian.Should().BeFalse();

        MmioRead(0x604, 2).Should().Be(0u, "the extension registers are 32-bit only");
        _vga.BadAccesses.Should().Be(1);
    }

    [Fact]
    public void Edid_area_reads_zero_so_Linux_uses_its_own_modes()
    {
        for (ulong offset = 0; offset < 8; offset += 4)
        {
            MmioRead(offset, 4).Should().Be(0u);
        }

        _vga.BadAccesses.Should().Be(0);
        MmioWrite(0, 1, 4);
        _vga.BadAccesses.Should().Be(1, "the EDID blob is read-only");
    }

    [Theory]
    [InlineData(0x1000UL, 1)]
    [InlineData(0xFFEUL, 4)]
    [InlineData(0x700UL, 4)]
    [InlineData(0x500UL, 8)]
    [InlineData(0x450UL, 1)]
    public void Mmio_accesses_outside_the_registers_are_counted(ulong offset, int width)
    {
        Span<byte> data = stackalloc byte[width];
        data.Fill(0xFF);
        _vga.MmioRegisters.Read(offset, data);
        data.ToArray().Should().OnlyContain(b => b == 0);
        _vga.MmioRegisters.Write(offset, data);
        _vga.BadAccesses.Should().Be(2);
    }

    [Fact]
    public void Attribute_controller_index_bit_5_blanks_and_unblanks_video()
    {
        LinuxSetMode(800, 600);
        _vga.Mode.Blanked.Should().BeFalse();

        // bochs_hw_blank(true): read 0x3DA to reset the flip-flop, then write index 0 (video off).
        _ = InB(0x3DA);
        OutB(0x3C0, 0x00);
        _vga.Mode.Blanked.Should().BeTrue();
        _vga.Mode.Visible.Should().BeFalse();

        OutB(0x3C0, 0x3F);  // data for attribute register 0, not an index
        _vga.Mode.Blanked.Should().BeTrue();
        _ = InB(0x3DA);
        OutB(0x3C0, 0x20);
        _vga.Mode.Blanked.Should().BeFalse();
        InB(0x3C0).Should().Be(0, "the flip-flop now expects data, and 0x3C0 reads the index only in index state");
        _ = InB(0x3DA);
        InB(0x3C0).Should().Be(0x20);
    }

    [Fact]
    public void Attribute_registers_take_data_after_an_index()
    {
        _ = InB(0x3DA);
        OutB(0x3C0, 0x10);
        OutB(0x3C0, 0x41);
        InB(0x3C1).Should().Be(0x41);
        InB(0x3C0).Should().Be(0x10);
    }

    [Fact]
    public void Power_on_shows_a_blanked_640x480_until_firmware_or_a_driver_sets_a_mode()
    {
        _vga.Mode.Should().Be(DisplayMode.PowerOn);
        _vga.Mode.Visible.Should().BeFalse();
        DisplayMode mode = _vga.SetModeAsFirmware(1024, 768, 32);
        mode.Should().Be(new DisplayMode(true, false, 1024, 768, 32, 4096, 0, false));
        _vga.Mode.Should().Be(mode);
        _modeEvents.Should().ContainSingle().Which.Should().Be(mode);
    }

    [Fact]
    public void Reset_returns_to_power_on_and_keeps_video_memory()
    {
        LinuxSetMode(1024, 768);
        DispiWrite(Id, 0xB0C2);
        _vram[100] = 9;
        _vga.Reset();
        _vga.Mode.Should().Be(DisplayMode.PowerOn);
        DispiRead(Id).Should().Be(0xB0C5);
        DispiRead(Enable).Should().Be(0);
        _vram[100].Should().Be(9);
    }

    [Fact]
    public void Dac_palette_is_written_and_read_in_rgb_triplets()
    {
        int version = _vga.PaletteVersion;
        OutB(0x3C8, 5);
        OutB(0x3C9, 63);
        OutB(0x3C9, 0);
        OutB(0x3C9, 32);
        OutB(0x3C9, 1);     // entry 6 starts
        _vga.PaletteVersion.Should().Be(version + 1);
        InB(0x3C8).Should().Be(6);
        InB(0x3C7).Should().Be(0, "DAC state after a write index");

        OutB(0x3C7, 5);
        InB(0x3C7).Should().Be(3);
        new[] { InB(0x3C9), InB(0x3C9), InB(0x3C9) }.Should().Equal(63, 0, 32);

        var palette = new uint[256];
        _vga.CopyPalette(palette);
        palette[5].Should().Be(0xFF0082u, "6-bit values widen with their top bits repeated");

        DispiWrite(Enable, Dac8Bit);
        OutB(0x3C8, 7);
        OutB(0x3C9, 0x12);
        OutB(0x3C9, 0x34);
        OutB(0x3C9, 0x56);
        _vga.CopyPalette(palette);
        palette[7].Should().Be(0x123456u, "an 8-bit DAC takes the values as they are");
    }

    [Fact]
    public void Input_status_toggles_retrace_so_wait_loops_finish()
    {
        byte first = InB(0x3DA), second = InB(0x3DA);
        (first ^ second).Should().Be(0x09);
        ((first | second) & 0x08).Should().Be(0x08);
    }

    [Fact]
    public void Vga_ports_through_mmio_match_port_io_and_a_word_write_is_index_then_data()
    {
        MmioWrite(0x400 + 0x14, 0x1107, 2);  // CRTC index 7, data 0x11, as one 16-bit write
        OutB(0x3D4, 0x07);
        InB(0x3D5).Should().Be(0x11);
        _vga.VgaPorts.Write(0x04, [0x02, 0x0F]); // sequencer index 2, data 0x0F
        MmioRead(0x400 + 0x05, 1).Should().Be(0x0Fu);
        MmioRead(0x400 + 0x04, 1).Should().Be(0x02u);
    }

    [Fact]
    public void Unknown_vga_ports_are_counted()
    {
        OutB(0x3C3, 1);
        _ = InB(0x3DF);
        _vga.BadAccesses.Should().Be(2);
    }

    [Fact]
    public void Random_register_traffic_never_throws_and_every_enabled_mode_fits_in_video_memory()
    {
        var random = new Random(5);
        var vga = new StdVga(new byte[StdVga.MinVideoMemorySize]);
        Span<byte> data = stackalloc byte[8];
        int visibleModes = 0;
        for (int i = 0; i < 200_000; i++)
        {
            int width = random.Next(5) switch { 0 => 1, 1 => 2, 2 => 4, 3 => 8, _ => 2 };
            random.NextBytes(data);
            // Bias toward the interesting registers so modes are really set and panned.
            if (random.Next(3) == 0)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(data, (ushort)random.Next(12));
                vga.DispiPorts.Write(0, data[..2]);
                BinaryPrimitives.WriteUInt16LittleEndian(data, (ushort)(random.Next(2) == 0 ? random.Next(3000) : random.Next(65536)));
                vga.DispiPorts.Write(1, data[..2]);
            }
            else
            {
                var device = random.Next(3) switch { 0 => vga.DispiPorts, 1 => vga.MmioRegisters, _ => vga.VgaPorts };
                ulong offset = (ulong)random.Next(0x1100);
                if (random.Next(2) == 0)
                {
                    device.Read(offset, data[..width]);
                }
                else
                {
                    device.Write(offset, data[..width]);
                }
            }

            DisplayMode mode = vga.Mode;
            if (mode.Enabled && mode.BytesPerPixel != 0)
            {
                visibleModes++;
                long end = mode.StartOffset + ((long)(mode.Height - 1) * mode.Stride) + ((long)mode.Width * mode.BytesPerPixel);
                end.Should().BeLessThanOrEqualTo(StdVga.MinVideoMemorySize, $"mode {mode} must lie in video memory");
                mode.Width.Should().BePositive();
                mode.Stride.Should().BeGreaterThanOrEqualTo(mode.Width * mode.BytesPerPixel);
            }
        }

        visibleModes.Should().BeGreaterThan(1000, "the traffic must reach enabled modes to mean anything");
    }
}
