using System.Buffers.Binary;
using Platform.Devices.Virtio;
using Platform.Devices.Virtio.Input;
using S = Platform.Devices.Virtio.Input.InputDeviceDescription;

namespace Platform.Devices.Tests.Virtio.Input;

// The virtio tablet through the PCI transport: what it tells the driver, and the reports a pointer makes.
public sealed class VirtioTabletTests : IDisposable
{
    private readonly VirtioTablet _tablet = new();
    private readonly VirtioInputDriver _driver;

    public VirtioTabletTests() => _driver = new VirtioInputDriver(_tablet);

    public void Dispose() => _driver.Dispose();

    private static InputEvent AbsX(int value) => new(LinuxInput.EventAbsolute, LinuxInput.AbsoluteX, value);

    private static InputEvent AbsY(int value) => new(LinuxInput.EventAbsolute, LinuxInput.AbsoluteY, value);

    private static InputEvent Button(ushort code, int value) => new(LinuxInput.EventKey, code, value);

    private static InputEvent Wheel(int steps) => new(LinuxInput.EventRelative, LinuxInput.RelativeWheel, steps);

    private static bool BitSet(byte[] bitmap, int bit) => (bitmap[bit / 8] & (1 << (bit % 8))) != 0;

    [Fact]
    public void Configuration_space_describes_QEMUs_tablet_with_a_wheel()
    {
        _driver.SelectString(S.SelectName).Should().Be("Platform Virtio Tablet");
        _driver.Select(S.SelectDeviceIds, 0).Union[..8].Should().Equal(0x06, 0x00, 0x27, 0x06, 0x03, 0x00, 0x02, 0x00);
        _driver.Select(S.SelectPropertyBits, 0).Size.Should().Be(0, "no INPUT_PROP_DIRECT, as QEMU's virtio-tablet");

        var (absSize, abs) = _driver.Select(S.SelectEventBits, LinuxInput.EventAbsolute);
        (absSize, abs[0]).Should().Be((1, (byte)0b11), "ABS_X and ABS_Y");
        foreach (ushort axis in new[] { LinuxInput.AbsoluteX, LinuxInput.AbsoluteY })
        {
            var (size, info) = _driver.Select(S.SelectAbsoluteInfo, axis);
            size.Should().Be(20);
            int[] fields = [.. Enumerable.Range(0, 5).Select(i => BinaryPrimitives.ReadInt32LittleEndian(info.AsSpan(4 * i)))];
            fields.Should().Equal([0, 32767, 0, 0, 0], "min, max, fuzz, flat, resolution");
        }

        _driver.Select(S.SelectAbsoluteInfo, 2).Size.Should().Be(0, "ABS_Z is not an axis of this tablet");

        var (keySize, keys) = _driver.Select(S.SelectEventBits, LinuxInput.EventKey);
        keySize.Should().Be((LinuxInput.ButtonExtra / 8) + 1);
        foreach (ushort button in new[] { LinuxInput.ButtonLeft, LinuxInput.ButtonRight, LinuxInput.ButtonMiddle, LinuxInput.ButtonSide, LinuxInput.ButtonExtra })
        {
            BitSet(keys, button).Should().BeTrue();
        }

        Enumerable.Range(0, LinuxInput.ButtonLeft).Should().NotContain(bit => BitSet(keys, bit), "a tablet has no keyboard keys");

        var (relSize, rel) = _driver.Select(S.SelectEventBits, LinuxInput.EventRelative);
        (relSize, rel[0], rel[1]).Should().Be((2, (byte)0, (byte)1), "REL_WHEEL (8) only: no relative motion");
        _driver.Select(S.SelectEventBits, LinuxInput.EventRepeat).Size.Should().Be(0);
        _driver.Select(S.SelectEventBits, LinuxInput.EventLed).Size.Should().Be(0);
    }

    [Fact]
    public void A_move_a_click_and_a_wheel_step_are_framed_reports_with_only_changed_buttons()
    {
        _driver.Start();
        _driver.PostEventBuffers(64);

        _tablet.Report(100, 200, TabletButtons.None).Should().BeTrue();
        _tablet.Report(100, 200, TabletButtons.Left).Should().BeTrue();
        _tablet.Report(300, 400, TabletButtons.Left).Should().BeTrue();
        _tablet.Report(300, 400, TabletButtons.Right).Should().BeTrue();
        _tablet.Report(300, 400, TabletButtons.None, wheel: -1).Should().BeTrue();

        _driver.ReadEvents(20).Should().Equal(
            AbsX(100), AbsY(200), InputEvent.SyncReport,
            AbsX(100), AbsY(200), Button(LinuxInput.ButtonLeft, 1), InputEvent.SyncReport,
            AbsX(300), AbsY(400), InputEvent.SyncReport,
            AbsX(300), AbsY(400), Button(LinuxInput.ButtonLeft, 0), Button(LinuxInput.ButtonRight, 1), InputEvent.SyncReport,
            AbsX(300), AbsY(400), Button(LinuxInput.ButtonRight, 0), Wheel(-1), InputEvent.SyncReport);
    }

    [Fact]
    public void Positions_outside_the_axis_are_clamped()
    {
        _driver.Start();
        _driver.PostEventBuffers(8);
        _tablet.Report(-5, 40000, TabletButtons.None);
        _driver.ReadEvents(3).Should().Equal(AbsX(0), AbsY(32767), InputEvent.SyncReport);
    }

    [Fact]
    public void A_driver_that_restarts_sees_held_buttons_pressed_again()
    {
        _driver.Start();
        _driver.PostEventBuffers(8);
        _tablet.Report(1, 1, TabletButtons.Middle);
        _driver.ReadEvents(4);

        _driver.Restart();
        _driver.PostEventBuffers(8);
        _tablet.Report(1, 1, TabletButtons.Middle);
        _driver.ReadEvents(4).Should().Equal(AbsX(1), AbsY(1), Button(LinuxInput.ButtonMiddle, 1), InputEvent.SyncReport);
    }

    [Fact]
    public void A_report_the_guest_never_got_is_repeated_in_the_next_one()
    {
        _tablet.Report(1, 1, TabletButtons.Left).Should().BeFalse("no driver yet");
        _driver.Start();
        _driver.PostEventBuffers(8);
        _tablet.Report(2, 2, TabletButtons.Left);
        _driver.ReadEvents(4).Should().Equal(AbsX(2), AbsY(2), Button(LinuxInput.ButtonLeft, 1), InputEvent.SyncReport);
    }

    [Fact]
    public void When_the_driver_falls_behind_old_motion_goes_and_clicks_stay()
    {
        using var tablet = new VirtioTablet(bufferCapacity: 12);
        using var driver = new VirtioInputDriver(tablet);
        driver.Start();
        tablet.Report(10, 10, TabletButtons.Left);   // 4 events
        for (int x = 11; x <= 16; x++)
        {
            tablet.Report(x, x, TabletButtons.Left); // 3 events each; older ones make room for newer
        }

        tablet.Report(17, 17, TabletButtons.None);   // 4 events: the release
        driver.PostEventBuffers(16);
        driver.ReadEvents(11).Should().Equal(
            AbsX(10), AbsY(10), Button(LinuxInput.ButtonLeft, 1), InputEvent.SyncReport,
            AbsX(16), AbsY(16), InputEvent.SyncReport,
            AbsX(17), AbsY(17), Button(LinuxInput.ButtonLeft, 0), InputEvent.SyncReport);
        tablet.EventsDropped.Should().Be(15);
    }

    [Theory]
    [InlineData(0, 1024, 16)]
    [InlineData(1023, 1024, 32752)]
    [InlineData(512, 1024, 16400)]
    [InlineData(0, 1, 16384)]
    [InlineData(-5, 640, 25)]
    [InlineData(700, 640, 32742)]
    [InlineData(10, 0, 16383)]
    public void Pixels_scale_to_the_middle_of_their_span_on_the_axis(int position, int extent, int expected) =>
        VirtioTablet.ScaleToAxis(position, extent).Should().Be(expected);

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(640)]
    [InlineData(1024)]
    [InlineData(1920)]
    [InlineData(2560)]
    [InlineData(8192)]
    public void Every_pixel_comes_back_as_itself_whichever_way_the_guest_scales(int extent)
    {
        for (int pixel = 0; pixel < extent; pixel++)
        {
            int axis = VirtioTablet.ScaleToAxis(pixel, extent);
            (axis * (long)extent / 32768).Should().Be(pixel, "libinput maps (value - min) * size / (max - min + 1)");
            if (extent > 1)
            {
                Math.Round(axis * (extent - 1) / 32767.0).Should().Be(pixel, "X's evdev maps value * (size - 1) / (max - min), rounded");
            }
        }
    }
}
