using Platform.Devices.Legacy;

namespace Platform.Engine.Vnc;

/// <summary>The PS/2 keyboard behind the i8042 as the VNC server's keyboard: scancodes in, LED state out.</summary>
public sealed class I8042VncKeyboard(I8042Controller controller) : IVncKeyboard
{
    public bool TryKeyEvent(int xtScancode, bool down) => controller.TryKeyEvent(xtScancode, down);

    public byte Leds => controller.Leds;

    public Action? RoomAvailable
    {
        get => controller.KeyboardRoomAvailable;
        set => controller.KeyboardRoomAvailable = value;
    }
}
