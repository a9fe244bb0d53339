using Platform.Devices.Abstractions;
using Platform.Devices.Legacy;
using Platform.Engine.Vnc;

namespace Platform.Engine.Tests.Vnc;

public sealed class I8042VncKeyboardTests
{
    private sealed class Line : IInterruptLine
    {
        public void SetLevel(bool asserted)
        {
        }
    }

    [Fact]
    public void Keys_reach_the_guest_as_set_1_and_leds_come_back()
    {
        var controller = new I8042Controller(new Line(), new Line(), () => { });
        var keyboard = new I8042VncKeyboard(controller);
        byte In(ulong port)
        {
            Span<byte> b = stackalloc byte[1];
            controller.Read(port, b);
            return b[0];
        }

        controller.Write(0, [0xF4]);   // enable scanning
        In(0).Should().Be(0xFA);
        keyboard.TryKeyEvent(0xE01D, true).Should().BeTrue();   // right Ctrl, as the VNC server passes it
        In(0).Should().Be(0xE0);
        In(0).Should().Be(0x1D);

        controller.Write(0, [0xED]);   // set LEDs: Caps Lock
        In(0).Should().Be(0xFA);
        controller.Write(0, [0x04]);
        In(0).Should().Be(0xFA);
        keyboard.Leds.Should().Be(0x04, "bit 2 is Caps Lock in both the i8042 and QEMU's LED pseudo-encoding");
    }
}
