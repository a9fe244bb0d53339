using Platform.Devices.Legacy;

namespace Platform.Engine.Vnc;

/// <summary>The PS/2 keyboard behind the i8042 as the VNC server's keyboard: scancodes in, LED state out.</summary>
public sealed class I8042VncKeyboard(I8042Controller controller) : IVncKeyboard
{
    public void KeyEvent(int xtScancode, bool down) => controller.KeyEvent(xtScancode, down);

    public byte Leds => controller.Leds;
}
