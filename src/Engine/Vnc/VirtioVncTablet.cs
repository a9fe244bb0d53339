using Platform.Devices.Virtio.Input;

namespace Platform.Engine.Vnc;

/// <summary>
/// The VNC pointer as a virtio tablet: the position scaled from the client's screen to the tablet's 0–32767 axes,
/// RFB buttons 1–3 (mask bits 0–2: left, middle, right) as held buttons, and a press of button 4 or 5 (bits 3 and 4)
/// as one wheel step up or down — a wheel step arrives as a press and a release, and only the press counts, as in
/// QEMU. Buttons 6 and 7 (a horizontal wheel) are dropped: the tablet has no REL_HWHEEL, like QEMU's.
/// </summary>
/// <remarks>Several viewers share the one tablet; their events are taken one at a time.</remarks>
public sealed class VirtioVncTablet(VirtioTablet tablet) : IVncPointer
{
    private const int ButtonLeft = 1, ButtonMiddle = 2, ButtonRight = 4, WheelUp = 8, WheelDown = 16;

    private readonly Lock _lock = new();
    private int _lastButtons;

    public void PointerEvent(int x, int y, int buttons, int screenWidth, int screenHeight)
    {
        var held = TabletButtons.None;
        if ((buttons & ButtonLeft) != 0)
        {
            held |= TabletButtons.Left;
        }

        if ((buttons & ButtonMiddle) != 0)
        {
            held |= TabletButtons.Middle;
        }

        if ((buttons & ButtonRight) != 0)
        {
            held |= TabletButtons.Right;
        }

        lock (_lock)
        {
            int pressed = buttons & ~_lastButtons;
            _lastButtons = buttons;
            int wheel = ((pressed & WheelUp) != 0 ? 1 : 0) - ((pressed & WheelDown) != 0 ? 1 : 0);
            tablet.Report(VirtioTablet.ScaleToAxis(x, screenWidth), VirtioTablet.ScaleToAxis(y, screenHeight), held, wheel);
        }
    }
}
