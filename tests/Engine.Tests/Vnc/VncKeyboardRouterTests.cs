using Platform.Devices.Abstractions;
using Platform.Devices.Legacy;
using Platform.Devices.Virtio.Input;
using Platform.Engine.Tests.Vnc.Support;
using Platform.Engine.Vnc;

namespace Platform.Engine.Tests.Vnc;

// Which keyboard a VNC key reaches when the machine has both a PS/2 and a virtio keyboard.
public sealed class VncKeyboardRouterTests : IDisposable
{
    private const int ScancodeA = 0x1E, ScancodeRightCtrl = 0xE01D;
    private const ushort KeyA = 30, KeyRightCtrl = 97;

    private readonly I8042Controller _ps2 = new(new Line(), new Line(), () => { });
    private readonly VirtioKeyboard _virtio = new();
    private RunningInputDevice? _driver;

    public VncKeyboardRouterTests() => _ps2.Write(0, [0xF4]); // the guest enables scanning...

    public void Dispose()
    {
        _driver?.Dispose();
        _virtio.Dispose();
    }

    private sealed class Line : IInterruptLine
    {
        public void SetLevel(bool asserted)
        {
        }
    }

    private static InputEvent Key(ushort code, int value) => new(LinuxInput.EventKey, code, value);

    /// <summary>Every byte the guest would read from the PS/2 keyboard since the last call.</summary>
    private List<byte> Ps2Bytes()
    {
        var bytes = new List<byte>();
        Span<byte> status = stackalloc byte[1], data = stackalloc byte[1];
        while (true)
        {
            _ps2.Read(4, status);
            if ((status[0] & 1) == 0)
            {
                return bytes;
            }

            _ps2.Read(0, data);
            bytes.Add(data[0]);
        }
    }

    private void StartVirtioDriver() => _driver = new RunningInputDevice(_virtio);

    [Fact]
    public void Without_a_virtio_keyboard_keys_go_to_PS2()
    {
        Ps2Bytes().Should().Equal(0xFA);   // ...and gets its acknowledgement
        var router = new VncKeyboardRouter(_ps2, null);
        router.TryKeyEvent(ScancodeRightCtrl, true).Should().BeTrue();
        router.TryKeyEvent(ScancodeRightCtrl, false).Should().BeTrue();
        Ps2Bytes().Should().Equal(0xE0, 0x1D, 0xE0, 0x9D);
        (router.KeysToPs2, router.KeysToVirtio).Should().Be((2, 0));
    }

    [Fact]
    public void Until_the_guest_runs_the_virtio_keyboard_keys_go_to_PS2()
    {
        Ps2Bytes();
        var router = new VncKeyboardRouter(_ps2, _virtio);
        router.TryKeyEvent(ScancodeA, true).Should().BeTrue();
        router.TryKeyEvent(ScancodeA, false).Should().BeTrue();
        Ps2Bytes().Should().Equal(0x1E, 0x9E);
        _virtio.ReportsQueued.Should().Be(0);
    }

    [Fact]
    public void Once_the_virtio_driver_runs_keys_go_there_only_so_the_guest_never_sees_a_key_twice()
    {
        Ps2Bytes();
        StartVirtioDriver();
        var router = new VncKeyboardRouter(_ps2, _virtio);
        router.TryKeyEvent(ScancodeRightCtrl, true).Should().BeTrue();
        router.TryKeyEvent(ScancodeA, true).Should().BeTrue();
        router.TryKeyEvent(ScancodeA, false).Should().BeTrue();
        router.TryKeyEvent(ScancodeRightCtrl, false).Should().BeTrue();

        _driver!.Read(8).Should().Equal(
            Key(KeyRightCtrl, 1), InputEvent.SyncReport, Key(KeyA, 1), InputEvent.SyncReport,
            Key(KeyA, 0), InputEvent.SyncReport, Key(KeyRightCtrl, 0), InputEvent.SyncReport);
        Ps2Bytes().Should().BeEmpty();
        (router.KeysToPs2, router.KeysToVirtio).Should().Be((0, 4));
    }

    [Fact]
    public void A_key_held_while_the_virtio_driver_starts_repeats_and_is_released_on_PS2()
    {
        Ps2Bytes();
        var router = new VncKeyboardRouter(_ps2, _virtio);
        router.TryKeyEvent(ScancodeA, true).Should().BeTrue();
        StartVirtioDriver();
        router.TryKeyEvent(ScancodeA, true).Should().BeTrue();    // the viewer's autorepeat
        router.TryKeyEvent(ScancodeA, false).Should().BeTrue();
        router.TryKeyEvent(ScancodeA, true).Should().BeTrue();    // a new press goes to the keyboard the guest now reads
        Ps2Bytes().Should().Equal(0x1E, 0x1E, 0x9E);
        _driver!.Read(2).Should().Equal(Key(KeyA, 1), InputEvent.SyncReport);
    }

    [Fact]
    public void A_key_pressed_on_the_virtio_keyboard_is_released_there_even_after_its_driver_stopped()
    {
        Ps2Bytes();
        StartVirtioDriver();
        var router = new VncKeyboardRouter(_ps2, _virtio);
        router.TryKeyEvent(ScancodeA, true).Should().BeTrue();
        _driver!.Read(2);
        _virtio.Reset();
        router.TryKeyEvent(ScancodeA, false).Should().BeTrue();   // the reset driver has no key down; nothing for PS/2 to undo either
        Ps2Bytes().Should().BeEmpty();
        router.TryKeyEvent(ScancodeA, true).Should().BeTrue();
        Ps2Bytes().Should().Equal(0x1E);
    }

    [Fact]
    public void The_LEDs_are_those_of_the_keyboard_that_gets_the_keys()
    {
        Ps2Bytes();
        _ps2.Write(0, [0xED]);   // Set LEDs: Num Lock on the PS/2 keyboard
        _ps2.Write(0, [0x02]);
        var router = new VncKeyboardRouter(_ps2, _virtio);
        router.Leds.Should().Be(0x02);
        StartVirtioDriver();
        router.Leds.Should().Be(0, "the virtio driver has not set any LED yet");
    }

    [Fact]
    public void Every_key_the_VNC_server_can_name_is_a_key_of_the_virtio_keyboard()
    {
        var scancodes = Enumerable.Range(0, 0x10000).Select(k => KeysymTranslator.ToScancode((uint)k)).Where(s => s != 0).Distinct();
        scancodes.Should().OnlyContain(s => XtScancodes.ToLinuxKey(s) != 0, "a key typed as a keysym reaches a virtio guest too");
    }
}
