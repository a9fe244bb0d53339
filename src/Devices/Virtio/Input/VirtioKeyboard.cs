namespace Platform.Devices.Virtio.Input;

/// <summary>
/// A virtio-input keyboard, as QEMU's virtio-keyboard-pci: EV_KEY with the keys of a PC keyboard (every code
/// <see cref="XtScancodes"/> produces), EV_REP so the guest repeats held keys itself, and EV_LED for Num, Caps and
/// Scroll Lock, whose state the driver reports through the status queue.
/// </summary>
/// <remarks>
/// Each key press or release is one report (the key, then SYN_REPORT) with value 1 or 0. A client's own repeats of
/// a held key are sent as presses again, as QEMU does; Linux ignores a press of a key already down and repeats on
/// its own timer.
/// </remarks>
public sealed class VirtioKeyboard : VirtioInput
{
    /// <summary>The bits of <see cref="Leds"/>, in the PS/2 keyboard's order (its Set LEDs command byte).</summary>
    public const byte LedScrollLockBit = 1, LedNumLockBit = 2, LedCapsLockBit = 4;

    private int _leds;
    private long _unmappedKeys;

    public VirtioKeyboard(string? serial = null, int bufferCapacity = DefaultBufferCapacity)
        : base(CreateDescription(serial), bufferCapacity)
    {
    }

    /// <summary>The LEDs the guest last set, as the i8042's <c>Leds</c>: bit 0 Scroll, 1 Num, 2 Caps Lock.</summary>
    public byte Leds => (byte)Volatile.Read(ref _leds);

    /// <summary>Key events for scancodes that name no key this keyboard has.</summary>
    public long UnmappedKeys => Interlocked.Read(ref _unmappedKeys);

    /// <summary>QEMU's name and IDs scheme: BUS_VIRTUAL, vendor 0x0627, product 1 (keyboard).</summary>
    public static InputDeviceDescription CreateDescription(string? serial = null) =>
        new InputDeviceDescription("Platform Virtio Keyboard", new InputDeviceIds(LinuxInput.BusVirtual, 0x0627, 0x0001, 0x0001), serial)
            .SupportEvents(LinuxInput.EventKey, [.. XtScancodes.LinuxKeys])
            .SupportEvents(LinuxInput.EventRepeat)
            .SupportEvents(LinuxInput.EventLed, LinuxInput.LedNumLock, LinuxInput.LedCapsLock, LinuxInput.LedScrollLock);

    /// <summary>Presses or releases the key with Linux key code <paramref name="linuxKey"/>. False when it was not sent.</summary>
    public bool SendKey(ushort linuxKey, bool down)
    {
        if (!Description.Reports(LinuxInput.EventKey, linuxKey))
        {
            Interlocked.Increment(ref _unmappedKeys);
            return false;
        }

        ReadOnlySpan<InputEvent> report = [new InputEvent(LinuxInput.EventKey, linuxKey, down ? 1 : 0), InputEvent.SyncReport];
        return SendReport(report);
    }

    /// <summary>Presses or releases the key with set-1 scancode <paramref name="xtScancode"/> (0xE0xx for extended keys).</summary>
    public bool SendScancode(int xtScancode, bool down) => SendKey(XtScancodes.ToLinuxKey(xtScancode), down);

    /// <summary>
    /// Offers the key with set-1 scancode <paramref name="xtScancode"/> without ever dropping it: <see cref="SendResult.Full"/>
    /// while the driver has not taken enough of what is pending (offer it again after <see cref="VirtioInput.RoomAvailable"/>).
    /// </summary>
    public SendResult TrySendScancode(int xtScancode, bool down)
    {
        ushort linuxKey = XtScancodes.ToLinuxKey(xtScancode);
        if (!Description.Reports(LinuxInput.EventKey, linuxKey))
        {
            Interlocked.Increment(ref _unmappedKeys);
            return SendResult.Unmapped;
        }

        ReadOnlySpan<InputEvent> report = [new InputEvent(LinuxInput.EventKey, linuxKey, down ? 1 : 0), InputEvent.SyncReport];
        return TrySendReport(report);
    }

    protected override void OnStatusEvent(InputEvent status)
    {
        if (status.Type != LinuxInput.EventLed)
        {
            return;
        }

        int bit = status.Code switch
        {
            LinuxInput.LedScrollLock => LedScrollLockBit,
            LinuxInput.LedNumLock => LedNumLockBit,
            LinuxInput.LedCapsLock => LedCapsLockBit,
            _ => 0,
        };
        int leds = Volatile.Read(ref _leds);
        Volatile.Write(ref _leds, status.Value != 0 ? leds | bit : leds & ~bit);
    }

    protected override void OnDriverChanged() => Volatile.Write(ref _leds, 0);
}
