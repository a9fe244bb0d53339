using Platform.Devices.Legacy;
using Platform.Devices.Virtio.Input;

namespace Platform.Engine.Vnc;

/// <summary>
/// The VNC server's keyboard on a machine with both a PS/2 and a virtio keyboard: a key press goes to the virtio
/// keyboard while the guest's driver runs it and to the PS/2 keyboard otherwise, and its release goes wherever the
/// press went.
/// </summary>
/// <remarks>
/// <para>This is what QEMU does with <c>-device virtio-keyboard-pci</c>: each input event goes to one device, the
/// keyboard whose driver activated it last (ui/input.c; virtio-input activates its handler at DRIVER_OK and
/// deactivates it at reset, the PS/2 keyboard never does). Sending every key to both would type it twice, because
/// Linux's console (and any program reading all keyboards) hears every keyboard.</para>
/// <para>So early boot, firmware and guests without the driver type through the i8042; once a Linux guest loads
/// virtio_input the keys go there. A key held across that moment is released on the device that saw it pressed, so
/// neither is left with a stuck key.</para>
/// </remarks>
public sealed class VncKeyboardRouter(I8042Controller ps2, VirtioKeyboard? virtio) : IVncKeyboard
{
    // Key slots as the VNC connection counts them: the scancode's low byte, plus 0x100 for an extended key.
    private const int KeySlots = 0x200;

    private const byte NotHeld = 0, HeldOnPs2 = 1, HeldOnVirtio = 2;

    private readonly Lock _lock = new();
    private readonly byte[] _heldOn = new byte[KeySlots];
    private long _keysToVirtio;
    private long _keysToPs2;

    /// <summary>Key events sent to the virtio keyboard.</summary>
    public long KeysToVirtio => Interlocked.Read(ref _keysToVirtio);

    /// <summary>Key events sent to the PS/2 keyboard.</summary>
    public long KeysToPs2 => Interlocked.Read(ref _keysToPs2);

    /// <summary>The LEDs of the keyboard that gets the keys (Linux sets the same LEDs on every keyboard).</summary>
    public byte Leds => virtio is { IsActive: true } ? virtio.Leds : ps2.Leds;

    /// <summary>Both keyboards call this when they have room again after refusing a key.</summary>
    public Action? RoomAvailable
    {
        get => ps2.KeyboardRoomAvailable;
        set
        {
            ps2.KeyboardRoomAvailable = value;
            if (virtio is not null)
            {
                virtio.RoomAvailable = value;
            }
        }
    }

    public bool TryKeyEvent(int xtScancode, bool down)
    {
        int slot = (xtScancode & 0xFF) | (xtScancode >= 0xE000 ? 0x100 : 0);
        lock (_lock)
        {
            // A press picks the device; a client's repeated press and the release follow the first press. The device
            // is asked under the lock so a refused key leaves the choice as it was, to be made again when offered again.
            byte held = _heldOn[slot];
            bool toVirtio = held == NotHeld ? virtio is { IsActive: true } : held == HeldOnVirtio;
            if (toVirtio)
            {
                SendResult result = virtio!.TrySendScancode(xtScancode, down);
                if (result == SendResult.Full)
                {
                    return false;
                }

                if (result == SendResult.NotListening && held == NotHeld)
                {
                    // The driver went away between the look and the send: the PS/2 keyboard takes it.
                    toVirtio = false;
                }
            }

            if (!toVirtio && !ps2.TryKeyEvent(xtScancode, down))
            {
                return false;
            }

            _heldOn[slot] = !down ? NotHeld : toVirtio ? HeldOnVirtio : HeldOnPs2;
            Interlocked.Increment(ref (toVirtio ? ref _keysToVirtio : ref _keysToPs2));
            return true;
        }
    }
}
