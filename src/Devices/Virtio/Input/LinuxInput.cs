namespace Platform.Devices.Virtio.Input;

/// <summary>
/// The Linux input event codes virtio-input speaks (include/uapi/linux/input-event-codes.h): the device reports
/// events in Linux's own vocabulary, so a Linux guest passes them to its input core unchanged.
/// </summary>
public static class LinuxInput
{
    // Event types (EV_*).
    public const ushort EventSync = 0x00;
    public const ushort EventKey = 0x01;
    public const ushort EventRelative = 0x02;
    public const ushort EventAbsolute = 0x03;
    public const ushort EventLed = 0x11;
    public const ushort EventRepeat = 0x14;

    /// <summary>SYN_REPORT: the events since the last one form one report.</summary>
    public const ushort SyncReport = 0;

    // Axes.
    public const ushort RelativeX = 0x00;
    public const ushort RelativeY = 0x01;
    public const ushort RelativeWheel = 0x08;
    public const ushort AbsoluteX = 0x00;
    public const ushort AbsoluteY = 0x01;

    // Pointer buttons (BTN_*), in the EV_KEY code space.
    public const ushort ButtonLeft = 0x110;
    public const ushort ButtonRight = 0x111;
    public const ushort ButtonMiddle = 0x112;
    public const ushort ButtonSide = 0x113;
    public const ushort ButtonExtra = 0x114;

    // LEDs (LED_*), the codes of EV_LED status events.
    public const ushort LedNumLock = 0;
    public const ushort LedCapsLock = 1;
    public const ushort LedScrollLock = 2;

    /// <summary>BUS_VIRTUAL, the bus type in the device IDs.</summary>
    public const ushort BusVirtual = 0x06;

    /// <summary>The largest key code (KEY_MAX): EV_KEY bitmaps have at most this many bits.</summary>
    public const ushort KeyMax = 0x2FF;
}
