using Platform.Engine.Vnc;

namespace Platform.Engine.Tests.Vnc;

public sealed class KeysymTranslatorTests
{
    [Theory]
    [InlineData('a', 0x1E)]
    [InlineData('Z', 0x2C)]
    [InlineData('0', 0x0B)]
    [InlineData(')', 0x0B)]
    [InlineData(' ', 0x39)]
    [InlineData('~', 0x29)]
    [InlineData('?', 0x35)]
    [InlineData(0xFF08, 0x0E)]     // BackSpace
    [InlineData(0xFF1B, 0x01)]     // Escape
    [InlineData(0xFF52, 0xE048)]   // Up
    [InlineData(0xFFFF, 0xE053)]   // Delete
    [InlineData(0xFFB7, 0x47)]     // KP_7
    [InlineData(0xFF8D, 0xE01C)]   // KP_Enter
    [InlineData(0xFFAF, 0xE035)]   // KP_Divide
    [InlineData(0xFFC9, 0x58)]     // F12
    [InlineData(0xFFEB, 0xE05B)]   // Super_L
    [InlineData(0xFE03, 0xE038)]   // AltGr
    [InlineData(0xFF13, 0xE046)]   // Pause
    [InlineData(0x20AC, 0)]        // EuroSign: not on a US keyboard
    [InlineData(0xE9, 0)]          // eacute
    public void Keysyms_map_to_the_us_key_that_types_them(int keysym, int scancode) =>
        KeysymTranslator.ToScancode((uint)keysym).Should().Be(scancode);

    [Fact]
    public void Every_printable_ascii_character_has_a_key()
    {
        for (uint c = 0x20; c < 0x7F; c++)
        {
            KeysymTranslator.ToScancode(c).Should().NotBe(0, $"'{(char)c}' is on a US keyboard");
        }
    }
}
