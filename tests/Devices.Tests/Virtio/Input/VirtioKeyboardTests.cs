using Platform.Devices.Virtio;
using Platform.Devices.Virtio.Input;
using static Platform.Devices.Tests.Virtio.FakeBuffer;
using S = Platform.Devices.Virtio.Input.InputDeviceDescription;

namespace Platform.Devices.Tests.Virtio.Input;

// The virtio keyboard through the PCI transport, driven as Linux's virtio_input driver drives it.
public sealed class VirtioKeyboardTests : IDisposable
{
    private const ushort KeyA = 30, KeyEnter = 28, KeyUp = 103, KeyLeftMeta = 125, KeyMedia = 226;

    private readonly VirtioKeyboard _keyboard = new();
    private readonly VirtioInputDriver _driver;

    public VirtioKeyboardTests() => _driver = new VirtioInputDriver(_keyboard);

    public void Dispose() => _driver.Dispose();

    private static InputEvent Key(ushort code, int value) => new(LinuxInput.EventKey, code, value);

    private static bool BitSet(byte[] bitmap, int bit) => (bitmap[bit / 8] & (1 << (bit % 8))) != 0;

    [Fact]
    public void The_transport_presents_a_modern_virtio_input_device_without_features()
    {
        _keyboard.DeviceType.Should().Be(VirtioDeviceType.Input);
        Span<byte> id = stackalloc byte[4];
        _driver.Transport.ReadConfig(0, id);
        BitConverter.ToUInt32(id).Should().Be(0x1052_1AF4u, "vendor 1AF4, device 1040 + 18");
        _driver.Pci.ReadDeviceFeatures().Should().Be(VirtioFeatures.Transport);
        _keyboard.QueueMaxSizes.Should().Equal(VirtioInput.QueueSize, VirtioInput.QueueSize);
        _keyboard.ConfigSize.Should().Be(136, "virtio_input_config: 8 header bytes and the 128-byte union");
    }

    [Fact]
    public void Configuration_space_answers_what_Linux_asks_at_probe()
    {
        _driver.SelectString(S.SelectName).Should().Be("Platform Virtio Keyboard");
        _driver.Select(S.SelectSerial, 0).Size.Should().Be(0, "no serial unless one is given");

        var (size, ids) = _driver.Select(S.SelectDeviceIds, 0);
        size.Should().Be(8);
        ids[..8].Should().Equal(0x06, 0x00, 0x27, 0x06, 0x01, 0x00, 0x01, 0x00); // BUS_VIRTUAL, 0627, 0001, 0001

        _driver.Select(S.SelectPropertyBits, 0).Size.Should().Be(0);

        var (repSize, rep) = _driver.Select(S.SelectEventBits, LinuxInput.EventRepeat);
        repSize.Should().Be(1, "EV_REP is declared with a one-byte empty bitmap, so the guest repeats keys");
        rep[0].Should().Be(0);

        var (keySize, keys) = _driver.Select(S.SelectEventBits, LinuxInput.EventKey);
        keySize.Should().Be((KeyMedia / 8) + 1);
        foreach (ushort key in new[] { KeyA, KeyEnter, KeyUp, KeyLeftMeta, KeyMedia, (ushort)1, (ushort)88 })
        {
            BitSet(keys, key).Should().BeTrue($"key {key} is on a PC keyboard");
        }

        BitSet(keys, 0).Should().BeFalse("KEY_RESERVED");
        BitSet(keys, 84).Should().BeFalse("no scancode names key 84");
        keys[keySize..].Should().OnlyContain(b => b == 0, "the union past size is zero");

        var (ledSize, leds) = _driver.Select(S.SelectEventBits, LinuxInput.EventLed);
        (ledSize, leds[0]).Should().Be((1, (byte)0b111), "Num, Caps and Scroll Lock");

        _driver.Select(S.SelectEventBits, LinuxInput.EventAbsolute).Size.Should().Be(0);
        _driver.Select(S.SelectEventBits, LinuxInput.EventRelative).Size.Should().Be(0);
        _driver.Select(S.SelectEventBits, LinuxInput.EventSync).Size.Should().Be(0);
        _driver.Select(S.SelectAbsoluteInfo, LinuxInput.AbsoluteX).Size.Should().Be(0);
        _driver.Select(S.SelectName, 1).Size.Should().Be(0, "a name has only subsel 0");
        _driver.Select(0x7F, 0).Size.Should().Be(0, "an unknown select");
        var (unsetSize, unset) = _driver.Select(S.SelectUnset, 0);
        unsetSize.Should().Be(0);
        unset.Should().OnlyContain(b => b == 0, "a question without an answer leaves nothing of the last one");
    }

    [Fact]
    public void Select_and_subsel_read_back_and_the_rest_of_the_header_is_read_only()
    {
        _driver.Select(S.SelectEventBits, LinuxInput.EventLed);
        _driver.Pci.Read8(VirtioPciDevice.DeviceConfigOffset).Should().Be(S.SelectEventBits);
        _driver.Pci.Read8(VirtioPciDevice.DeviceConfigOffset + 1).Should().Be((byte)LinuxInput.EventLed);

        _driver.Pci.Write8(VirtioPciDevice.DeviceConfigOffset + VirtioInput.SizeOffset, 99);
        _driver.Pci.Write8(VirtioPciDevice.DeviceConfigOffset + VirtioInput.UnionOffset, 0xFF);
        _driver.Pci.Read8(VirtioPciDevice.DeviceConfigOffset + VirtioInput.SizeOffset).Should().Be(1);
        _driver.Pci.Read8(VirtioPciDevice.DeviceConfigOffset + VirtioInput.UnionOffset).Should().Be(0b111);
        _keyboard.IgnoredConfigWrites.Should().Be(2);

        // One 16-bit write sets both, as a driver that writes the pair at once would.
        _driver.Pci.Write16(VirtioPciDevice.DeviceConfigOffset, (ushort)(S.SelectEventBits | (LinuxInput.EventRepeat << 8)));
        _driver.Pci.Read8(VirtioPciDevice.DeviceConfigOffset + VirtioInput.SizeOffset).Should().Be(1);
    }

    [Fact]
    public void A_key_press_and_release_are_two_reports_each_ended_by_SYN_REPORT()
    {
        _driver.Start().Should().HaveFlag(VirtioDeviceStatus.DriverOk);
        _driver.PostEventBuffers(64);

        _keyboard.SendKey(KeyA, down: true).Should().BeTrue();
        _keyboard.SendKey(KeyA, down: false).Should().BeTrue();

        _driver.ReadEvents(4).Should().Equal(Key(KeyA, 1), InputEvent.SyncReport, Key(KeyA, 0), InputEvent.SyncReport);
        _driver.Msi.SignalCount(1).Should().BeGreaterThan(0, "the event queue's vector tells the driver");
        (_keyboard.EventsDelivered, _keyboard.ReportsQueued, _keyboard.EventsPending).Should().Be((4, 2, 0));
    }

    [Fact]
    public void Scancodes_from_the_VNC_server_become_Linux_key_codes()
    {
        _driver.Start();
        _driver.PostEventBuffers(16);

        _keyboard.SendScancode(0x1C, down: true).Should().BeTrue();
        _keyboard.SendScancode(0xE048, down: true).Should().BeTrue();
        _keyboard.SendScancode(0x7F, down: true).Should().BeFalse("no key has that scancode");

        _driver.ReadEvents(4).Should().Equal(Key(KeyEnter, 1), InputEvent.SyncReport, Key(KeyUp, 1), InputEvent.SyncReport);
        _keyboard.UnmappedKeys.Should().Be(1);
        _keyboard.SendKey(0x110, down: true).Should().BeFalse("a mouse button is not a keyboard key");
    }

    [Fact]
    public void TrySendScancode_holds_back_instead_of_dropping_and_calls_back_when_the_driver_has_taken_half()
    {
        int calls = 0;
        _keyboard.RoomAvailable = () => Interlocked.Increment(ref calls);
        _keyboard.TrySendScancode(0x1E, down: true).Should().Be(SendResult.NotListening, "no driver yet");
        _driver.Start();

        int sent = 0;
        while (_keyboard.TrySendScancode(0x1E, down: sent % 2 == 0) == SendResult.Sent)
        {
            sent++;
        }

        sent.Should().Be(VirtioInput.DefaultBufferCapacity / 2, "two events per key, and the buffer holds 256");
        _keyboard.TrySendScancode(0x7F, down: true).Should().Be(SendResult.Unmapped);
        _keyboard.EventsDropped.Should().Be(0);

        _driver.PostEventBuffers(64);
        _driver.ReadEvents(64);
        Volatile.Read(ref calls).Should().Be(0, "192 events still wait");
        _driver.PostEventBuffers(64);
        _driver.ReadEvents(64);
        SpinWait.SpinUntil(() => Volatile.Read(ref calls) == 1, TimeSpan.FromSeconds(10)).Should().BeTrue("half the buffer is free");
        _keyboard.TrySendScancode(0x1C, down: true).Should().Be(SendResult.Sent);
        (_keyboard.EventsPending, _keyboard.EventsDropped).Should().Be((130, 0));
    }

    [Fact]
    public void Events_wait_for_buffers_and_arrive_in_order_once_the_driver_posts_some()
    {
        _driver.Start();
        _keyboard.SendKey(KeyA, true);
        _keyboard.SendKey(KeyA, false);
        _keyboard.SendKey(KeyEnter, true);
        _keyboard.EventsPending.Should().Be(6);

        _driver.PostEventBuffers(2);
        _driver.ReadEvents(2).Should().Equal(Key(KeyA, 1), InputEvent.SyncReport);
        _driver.PostEventBuffers(8);
        _driver.ReadEvents(4).Should().Equal(Key(KeyA, 0), InputEvent.SyncReport, Key(KeyEnter, 1), InputEvent.SyncReport);
        _keyboard.EventsDropped.Should().Be(0);
    }

    [Fact]
    public void Nothing_is_queued_before_DRIVER_OK_or_after_a_reset()
    {
        _keyboard.SendKey(KeyA, true).Should().BeFalse("no driver is listening");
        _keyboard.IsActive.Should().BeFalse();

        _driver.Start();
        _keyboard.IsActive.Should().BeTrue();
        _keyboard.SendKey(KeyA, true).Should().BeTrue();   // waits: no buffers yet

        _driver.Pci.Status = VirtioDeviceStatus.None;      // reset
        _keyboard.IsActive.Should().BeFalse();
        _keyboard.EventsPending.Should().Be(0, "a reset forgets what the old driver never took");
        _keyboard.SendKey(KeyA, false).Should().BeFalse();
        _driver.Pci.Read8(VirtioPciDevice.DeviceConfigOffset).Should().Be(0, "select is back to UNSET");
    }

    [Fact]
    public void A_driver_that_falls_behind_loses_the_oldest_reports_and_they_are_counted()
    {
        using var keyboard = new VirtioKeyboard(bufferCapacity: 8);
        using var driver = new VirtioInputDriver(keyboard);
        driver.Start();
        for (ushort key = 16; key < 22; key++)
        {
            keyboard.SendKey(key, true).Should().BeTrue("a new report always fits by dropping an old one");
        }

        keyboard.EventsDropped.Should().Be(4);
        driver.PostEventBuffers(16);
        driver.ReadEvents(8).Should().Equal(Key(18, 1), InputEvent.SyncReport, Key(19, 1), InputEvent.SyncReport,
            Key(20, 1), InputEvent.SyncReport, Key(21, 1), InputEvent.SyncReport);
    }

    [Fact]
    public void LED_changes_in_the_status_queue_set_the_LED_state()
    {
        _driver.Start();
        _driver.SendStatus(new InputEvent(LinuxInput.EventLed, LinuxInput.LedCapsLock, 1));
        _keyboard.Leds.Should().Be(VirtioKeyboard.LedCapsLockBit);
        _driver.SendStatus(new InputEvent(LinuxInput.EventLed, LinuxInput.LedNumLock, 1));
        _driver.SendStatus(new InputEvent(LinuxInput.EventLed, LinuxInput.LedScrollLock, 1));
        _driver.SendStatus(new InputEvent(LinuxInput.EventLed, LinuxInput.LedCapsLock, 0));
        _keyboard.Leds.Should().Be(VirtioKeyboard.LedNumLockBit | VirtioKeyboard.LedScrollLockBit);
        _driver.SendStatus(new InputEvent(LinuxInput.EventLed, 7, 1));   // LED_MAIL: not a keyboard LED we show
        _keyboard.Leds.Should().Be(VirtioKeyboard.LedNumLockBit | VirtioKeyboard.LedScrollLockBit);
        _keyboard.StatusEvents.Should().Be(5);
        _driver.StatusQueue.Used(0).Length.Should().Be(0, "the device writes nothing into a status buffer");

        _driver.Pci.Status = VirtioDeviceStatus.None;
        _keyboard.Leds.Should().Be(0, "a reset driver starts with its LEDs off");
    }

    [Fact]
    public void A_short_status_buffer_is_returned_and_counted_without_failing_the_device()
    {
        _driver.Start();
        _driver.SendStatusBuffer(Readable([0x11, 0x00, 0x01, 0x00]));
        _driver.SendStatusBuffer(Writable(8));
        _keyboard.BadStatusBuffers.Should().Be(2);
        _keyboard.StatusEvents.Should().Be(0);
        _driver.Pci.Status.Should().NotHaveFlag(VirtioDeviceStatus.DeviceNeedsReset);
    }

    [Fact]
    public void An_event_buffer_smaller_than_an_event_needs_a_reset_and_hurts_only_this_device()
    {
        _driver.Start();
        _driver.PostEventBuffers(1, length: 4);
        _keyboard.SendKey(KeyA, true);

        _driver.Msi.WaitForSignal().Should().BeTrue();
        SpinWait.SpinUntil(() => _driver.Pci.Status.HasFlag(VirtioDeviceStatus.DeviceNeedsReset), TimeSpan.FromSeconds(10)).Should().BeTrue();
        _driver.EventQueue.UsedIndex.Should().Be(0, "nothing was written into the short buffer");
        _keyboard.Errors.Should().Be(1);
        _keyboard.LastError.Should().Contain("4 writable bytes");
        _keyboard.IsActive.Should().BeFalse();
        _keyboard.SendKey(KeyA, false).Should().BeFalse();

        // The driver resets and starts again on fresh queues: the device works.
        _driver.Restart().Should().NotHaveFlag(VirtioDeviceStatus.DeviceNeedsReset);
        _keyboard.SendKey(KeyEnter, true).Should().BeTrue();
        _driver.PostEventBuffers(2);
        _driver.ReadEvents(2).Should().Equal(Key(KeyEnter, 1), InputEvent.SyncReport);
    }

    [Fact]
    public void A_serial_is_reported_when_given()
    {
        using var keyboard = new VirtioKeyboard(serial: "kbd-1");
        using var driver = new VirtioInputDriver(keyboard);
        driver.SelectString(S.SelectSerial).Should().Be("kbd-1");
        keyboard.Description.Invoking(d => d.SupportProperties(1)).Should().Throw<InvalidOperationException>("a device's description is fixed");
    }
}
