namespace Platform.Devices.Virtio.Input;

/// <summary>Pointer buttons a tablet reports.</summary>
[Flags]
public enum TabletButtons
{
    None = 0,
    Left = 1,
    Middle = 2,
    Right = 4,
    Side = 8,
    Extra = 16,
}

/// <summary>
/// A virtio-input tablet — an absolute pointer, so the guest's cursor is where the viewer's is — as QEMU's
/// virtio-tablet-pci (with its default wheel axis): EV_ABS X and Y from 0 to 32767, EV_KEY for the left, right,
/// middle, side and extra buttons, EV_REL for the wheel. Like QEMU's tablet it sets no input properties (no
/// INPUT_PROP_DIRECT), so guests treat it as a mouse that happens to know where it is.
/// </summary>
/// <remarks>
/// A report always carries both axes (Linux drops values that did not change), then the buttons that changed since
/// the last report the guest got, then any wheel steps, then SYN_REPORT.
/// </remarks>
public sealed class VirtioTablet : VirtioInput
{
    /// <summary>Both axes run from 0 to this (QEMU's INPUT_EVENT_ABS_MAX).</summary>
    public const int AxisMax = 0x7FFF;

    private readonly Lock _stateLock = new();
    private TabletButtons _buttons;

    public VirtioTablet(string? serial = null, int bufferCapacity = DefaultBufferCapacity)
        : base(CreateDescription(serial), bufferCapacity)
    {
    }

    /// <summary>QEMU's IDs scheme: BUS_VIRTUAL, vendor 0x0627, product 3 (tablet), version 2 (with a wheel).</summary>
    public static InputDeviceDescription CreateDescription(string? serial = null) =>
        new InputDeviceDescription("Platform Virtio Tablet", new InputDeviceIds(LinuxInput.BusVirtual, 0x0627, 0x0003, 0x0002), serial)
            .SupportEvents(LinuxInput.EventAbsolute, LinuxInput.AbsoluteX, LinuxInput.AbsoluteY)
            .SupportEvents(LinuxInput.EventKey, LinuxInput.ButtonLeft, LinuxInput.ButtonRight, LinuxInput.ButtonMiddle,
                LinuxInput.ButtonSide, LinuxInput.ButtonExtra)
            .SupportEvents(LinuxInput.EventRelative, LinuxInput.RelativeWheel)
            .SupportAbsoluteAxis(LinuxInput.AbsoluteX, new AbsoluteAxisInfo(0, AxisMax))
            .SupportAbsoluteAxis(LinuxInput.AbsoluteY, new AbsoluteAxisInfo(0, AxisMax));

    /// <summary>
    /// Where pixel <paramref name="position"/> of a screen <paramref name="extent"/> pixels wide (or high) lies on
    /// the 0–32767 axis: the middle of the pixel, so a guest that scales back with either extent/32767 or
    /// extent/32768 lands on the same pixel. Positions outside the screen are clamped to its edge.
    /// </summary>
    public static int ScaleToAxis(int position, int extent)
    {
        if (extent < 1)
        {
            return AxisMax / 2;
        }

        long pixel = Math.Clamp(position, 0, extent - 1);
        return (int)Math.Min(AxisMax, ((2 * pixel) + 1) * (AxisMax + 1L) / (2L * extent));
    }

    /// <summary>
    /// Reports the pointer at (<paramref name="x"/>, <paramref name="y"/>) on the 0–32767 axes with
    /// <paramref name="buttons"/> held, and <paramref name="wheel"/> wheel steps (positive away from the user).
    /// Any thread. False when the report was not sent (driver not running, or dropped).
    /// </summary>
    public bool Report(int x, int y, TabletButtons buttons, int wheel = 0)
    {
        Span<InputEvent> report = stackalloc InputEvent[9];
        int n = 0;
        report[n++] = new InputEvent(LinuxInput.EventAbsolute, LinuxInput.AbsoluteX, Math.Clamp(x, 0, AxisMax));
        report[n++] = new InputEvent(LinuxInput.EventAbsolute, LinuxInput.AbsoluteY, Math.Clamp(y, 0, AxisMax));

        // The button state and the order of reports must agree, so two callers (two viewers) take turns.
        lock (_stateLock)
        {
            TabletButtons changed = buttons ^ _buttons;
            AddButton(report, ref n, changed, buttons, TabletButtons.Left, LinuxInput.ButtonLeft);
            AddButton(report, ref n, changed, buttons, TabletButtons.Right, LinuxInput.ButtonRight);
            AddButton(report, ref n, changed, buttons, TabletButtons.Middle, LinuxInput.ButtonMiddle);
            AddButton(report, ref n, changed, buttons, TabletButtons.Side, LinuxInput.ButtonSide);
            AddButton(report, ref n, changed, buttons, TabletButtons.Extra, LinuxInput.ButtonExtra);
            if (wheel != 0)
            {
                report[n++] = new InputEvent(LinuxInput.EventRelative, LinuxInput.RelativeWheel, wheel);
            }

            report[n++] = InputEvent.SyncReport;
            if (!SendReport(report[..n]))
            {
                return false; // the guest did not see the change: the next report carries it again
            }

            _buttons = buttons;
            return true;
        }
    }

    protected override void OnDriverChanged()
    {
        // A driver that (re)starts sees every button up.
        lock (_stateLock)
        {
            _buttons = TabletButtons.None;
        }
    }

    private static void AddButton(Span<InputEvent> report, ref int n, TabletButtons changed, TabletButtons held, TabletButtons button, ushort code)
    {
        if ((changed & button) != 0)
        {
            report[n++] = new InputEvent(LinuxInput.EventKey, code, (held & button) != 0 ? 1 : 0);
        }
    }
}
