using Platform.Devices.Virtio.Input;

namespace Platform.Devices.Tests.Virtio.Input;

public sealed class XtScancodesTests
{
    [Fact]
    public void The_main_block_keeps_its_number_as_Linux_numbered_its_keys_after_XT()
    {
        for (int scancode = 0x01; scancode <= 0x53; scancode++)
        {
            XtScancodes.ToLinuxKey(scancode).Should().Be((ushort)scancode);
        }
    }

    [Theory]
    [InlineData(0x1C, 28)]       // Enter: KEY_ENTER
    [InlineData(0x1E, 30)]       // A: KEY_A
    [InlineData(0x54, 99)]       // SysRq: KEY_SYSRQ
    [InlineData(0x56, 86)]       // ISO key left of Z: KEY_102ND
    [InlineData(0x57, 87)]       // KEY_F11
    [InlineData(0x58, 88)]       // KEY_F12
    [InlineData(0x5D, 183)]      // KEY_F13
    [InlineData(0x73, 89)]       // KEY_RO
    [InlineData(0x7D, 124)]      // KEY_YEN
    [InlineData(0xE01C, 96)]     // KEY_KPENTER
    [InlineData(0xE01D, 97)]     // KEY_RIGHTCTRL
    [InlineData(0xE035, 98)]     // KEY_KPSLASH
    [InlineData(0xE037, 99)]     // Print Screen: KEY_SYSRQ
    [InlineData(0xE038, 100)]    // KEY_RIGHTALT
    [InlineData(0xE046, 119)]    // KEY_PAUSE
    [InlineData(0xE047, 102)]    // KEY_HOME
    [InlineData(0xE048, 103)]    // KEY_UP
    [InlineData(0xE04B, 105)]    // KEY_LEFT
    [InlineData(0xE04D, 106)]    // KEY_RIGHT
    [InlineData(0xE050, 108)]    // KEY_DOWN
    [InlineData(0xE053, 111)]    // KEY_DELETE
    [InlineData(0xE05B, 125)]    // KEY_LEFTMETA
    [InlineData(0xE05D, 127)]    // KEY_COMPOSE
    [InlineData(0xE020, 113)]    // KEY_MUTE
    [InlineData(0xE06D, 226)]    // KEY_MEDIA
    public void Other_keys_follow_QEMUs_table(int scancode, int linuxKey) =>
        XtScancodes.ToLinuxKey(scancode).Should().Be((ushort)linuxKey);

    [Theory]
    [InlineData(0)]
    [InlineData(0x80)]      // a break code is not a key
    [InlineData(0xE000)]
    [InlineData(0xE02A)]    // the fake left shift around extended keys
    [InlineData(0xE036)]
    [InlineData(0x7F)]
    [InlineData(0x1234)]
    [InlineData(-1)]
    public void Codes_that_name_no_key_give_zero(int scancode) => XtScancodes.ToLinuxKey(scancode).Should().Be(0);

    [Fact]
    public void The_declared_keys_are_exactly_what_the_table_produces()
    {
        var produced = Enumerable.Range(1, 0x7F).Concat(Enumerable.Range(0xE001, 0x7F)).Select(XtScancodes.ToLinuxKey).Where(k => k != 0).ToHashSet();
        XtScancodes.LinuxKeys.Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
        XtScancodes.LinuxKeys.Should().BeEquivalentTo(produced);
        XtScancodes.LinuxKeys[^1].Should().BeLessThan(InputDeviceDescription.MaxAnswerLength * 8);
    }
}
