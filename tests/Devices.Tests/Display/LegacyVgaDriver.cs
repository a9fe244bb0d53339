using Platform.Devices.Display;

namespace Platform.Devices.Tests.Display;

/// <summary>Drives the std-vga's VGA ports and legacy window as the VGA BIOS does, for the legacy tests.</summary>
internal sealed class LegacyVgaDriver(StdVga vga)
{
    public const int TextWindow = 0x18000; // 0xB8000 as an offset in the 0xA0000 window

    public StdVga Vga { get; } = vga;

    public void Out(int port, byte value) => Vga.VgaPorts.Write((ulong)(port - 0x3C0), [value]);

    public byte In(int port)
    {
        byte[] b = new byte[1];
        Vga.VgaPorts.Read((ulong)(port - 0x3C0), b);
        return b[0];
    }

    public void Seq(int index, byte value)
    {
        Out(0x3C4, (byte)index);
        Out(0x3C5, value);
    }

    public void Gfx(int index, byte value)
    {
        Out(0x3CE, (byte)index);
        Out(0x3CF, value);
    }

    public void Crtc(int index, byte value)
    {
        Out(0x3D4, (byte)index);
        Out(0x3D5, value);
    }

    /// <summary>Writes an attribute register, leaving video output on (index bit 5), as the BIOS does at the end.</summary>
    public void Attr(int index, byte value)
    {
        In(0x3DA);
        Out(0x3C0, (byte)index);
        Out(0x3C0, value);
        Out(0x3C0, 0x20);
    }

    public void Dac(int index, byte r, byte g, byte b)
    {
        Out(0x3C8, (byte)index);
        Out(0x3C9, r);
        Out(0x3C9, g);
        Out(0x3C9, b);
    }

    public void Poke(int offset, byte value) => Vga.LegacyWindow.Write((ulong)offset, [value]);

    public byte Peek(int offset)
    {
        byte[] b = new byte[1];
        Vga.LegacyWindow.Read((ulong)offset, b);
        return b[0];
    }

    /// <summary>Plane 2 reachable at 0xA0000 as vgabios-stdvga opens it to load a font (get_font_access).</summary>
    public void OpenFontPlane()
    {
        Seq(0x02, 0x04);
        Seq(0x04, 0x07);
        Gfx(0x04, 0x02);
        Gfx(0x05, 0x00);
        Gfx(0x06, 0x04);
    }

    /// <summary>Back to text access at 0xB8000 (release_font_access).</summary>
    public void CloseFontPlane()
    {
        Seq(0x02, 0x03);
        Seq(0x04, 0x03);
        Gfx(0x04, 0x00);
        Gfx(0x05, 0x10);
        Gfx(0x06, 0x0E);
    }

    /// <summary>Mode 3's registers as the VGA BIOS sets them: 80×25 cells of 9×16, EGA palette, blinking on.</summary>
    public void SetTextMode3()
    {
        Seq(0x01, 0x00);
        Seq(0x03, 0x00);
        Gfx(0x08, 0xFF);
        Gfx(0x03, 0x00);
        Gfx(0x01, 0x00);
        CloseFontPlane();
        Crtc(0x01, 0x4F);
        Crtc(0x07, 0x1F);
        Crtc(0x09, 0x4F);
        Crtc(0x0A, 0x0D);
        Crtc(0x0B, 0x0E);
        Crtc(0x0C, 0x00);
        Crtc(0x0D, 0x00);
        Crtc(0x0E, 0x00);
        Crtc(0x0F, 0x00);
        Crtc(0x12, 0x8F);
        Crtc(0x13, 0x28);
        byte[] ega = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F];
        for (int i = 0; i < 16; i++)
        {
            Attr(i, ega[i]);
        }

        Attr(0x10, 0x0C);
        Attr(0x14, 0x00);
        Dac(0x01, 0x00, 0x00, 0x2A);  // blue
        Dac(0x3F, 0x3F, 0x3F, 0x3F);  // bright white
    }

    /// <summary>Writes glyph rows of <paramref name="character"/> into plane 2, map 0.</summary>
    public void LoadGlyph(int character, params byte[] rows)
    {
        OpenFontPlane();
        for (int i = 0; i < rows.Length; i++)
        {
            Poke((character * 32) + i, rows[i]);
        }

        CloseFontPlane();
    }

    /// <summary>A character and its attribute at a text cell, as int 10h writes them to 0xB8000.</summary>
    public void PutCell(int row, int column, char character, byte attribute)
    {
        int at = TextWindow + (((row * 80) + column) * 2);
        Poke(at, (byte)character);
        Poke(at + 1, attribute);
    }

    /// <summary>
    /// Mode 12h's registers as vgabios-stdvga sets them: 640×480 in four planes at 0xA0000, 80 bytes a line, the EGA
    /// palette, DAC 1 blue, 4 red, 0x3F white.
    /// </summary>
    public void SetMode12h()
    {
        Seq(0x01, 0x01);
        Seq(0x02, 0x0F);
        Seq(0x04, 0x06);
        Gfx(0x05, 0x00);
        Gfx(0x06, 0x05);
        Gfx(0x08, 0xFF);
        Crtc(0x01, 0x4F);
        Crtc(0x07, 0x3E);
        Crtc(0x09, 0x40);
        Crtc(0x0C, 0x00);
        Crtc(0x0D, 0x00);
        Crtc(0x12, 0xDF);
        Crtc(0x13, 0x28);
        Crtc(0x17, 0xE3);
        Crtc(0x18, 0xFF);
        SetEgaPalette();
        Attr(0x10, 0x01);
        Attr(0x12, 0x0F);
    }

    /// <summary>
    /// Mode 04h's registers (CGA 320×200, 4 colours, 2 bits a pixel at 0xB8000, odd/even, even lines in the bank at
    /// 0 and odd ones at 0x2000): shift control 1, halved dot clock, doubled scan lines, CRTC mode control 0xA2.
    /// </summary>
    public void SetMode04h()
    {
        Seq(0x01, 0x09);
        Seq(0x02, 0x03);
        Seq(0x04, 0x02);
        Gfx(0x05, 0x30);
        Gfx(0x06, 0x0F);
        Gfx(0x08, 0xFF);
        Crtc(0x01, 0x27);
        Crtc(0x07, 0x1F);
        Crtc(0x09, 0xC1);
        Crtc(0x0C, 0x00);
        Crtc(0x0D, 0x00);
        Crtc(0x12, 0x8F);
        Crtc(0x13, 0x14);
        Crtc(0x17, 0xA2);
        Crtc(0x18, 0xFF);
        SetEgaPalette();
        Attr(0x10, 0x01);
        Attr(0x12, 0x03);
    }

    private void SetEgaPalette()
    {
        byte[] ega = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F];
        for (int i = 0; i < 16; i++)
        {
            Attr(i, ega[i]);
        }

        Attr(0x14, 0x00);
        Dac(0x01, 0x00, 0x00, 0x2A);  // blue
        Dac(0x02, 0x00, 0x2A, 0x00);  // green
        Dac(0x03, 0x00, 0x2A, 0x2A);  // cyan
        Dac(0x04, 0x2A, 0x00, 0x00);  // red
        Dac(0x3F, 0x3F, 0x3F, 0x3F);  // bright white
    }
}
