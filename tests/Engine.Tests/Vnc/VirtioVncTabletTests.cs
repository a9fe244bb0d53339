using Platform.Devices.Virtio.Input;
using Platform.Engine.Tests.Vnc.Support;
using Platform.Engine.Vnc;

namespace Platform.Engine.Tests.Vnc;

// RFB pointer events as the virtio tablet reports them.
public sealed class VirtioVncTabletTests : IDisposable
{
    private readonly VirtioTablet _tablet = new();
    private readonly RunningInputDevice _driver;
    private readonly VirtioVncTablet _pointer;

    public VirtioVncTabletTests()
    {
        _driver = new RunningInputDevice(_tablet);
        _pointer = new VirtioVncTablet(_tablet);
    }

    public void Dispose()
    {
        _driver.Dispose();
        _tablet.Dispose();
    }

    private static InputEvent AbsX(int value) => new(LinuxInput.EventAbsolute, LinuxInput.AbsoluteX, value);

    private static InputEvent AbsY(int value) => new(LinuxInput.EventAbsolute, LinuxInput.AbsoluteY, value);

    private static InputEvent Button(ushort code, int value) => new(LinuxInput.EventKey, code, value);

    private static InputEvent Wheel(int steps) => new(LinuxInput.EventRelative, LinuxInput.RelativeWheel, steps);

    [Fact]
    public void The_position_is_scaled_from_the_screen_to_the_tablet_axes()
    {
        _pointer.PointerEvent(0, 767, 0, 1024, 768);
        _pointer.PointerEvent(512, 384, 0, 1024, 768);
        _driver.Read(6).Should().Equal(
            AbsX(16), AbsY(32746), InputEvent.SyncReport,
            AbsX(16400), AbsY(16405), InputEvent.SyncReport);
    }

    [Fact]
    public void Buttons_1_to_3_are_left_middle_and_right_and_only_changes_are_reported()
    {
        _pointer.PointerEvent(10, 10, 0b001, 100, 100);
        _pointer.PointerEvent(20, 10, 0b001, 100, 100);   // a drag
        _pointer.PointerEvent(20, 10, 0b110, 100, 100);
        _pointer.PointerEvent(20, 10, 0b000, 100, 100);
        int x10 = VirtioTablet.ScaleToAxis(10, 100), x20 = VirtioTablet.ScaleToAxis(20, 100);
        _driver.Read(18).Should().Equal(
            AbsX(x10), AbsY(x10), Button(LinuxInput.ButtonLeft, 1), InputEvent.SyncReport,
            AbsX(x20), AbsY(x10), InputEvent.SyncReport,
            AbsX(x20), AbsY(x10), Button(LinuxInput.ButtonLeft, 0), Button(LinuxInput.ButtonRight, 1), Button(LinuxInput.ButtonMiddle, 1), InputEvent.SyncReport,
            AbsX(x20), AbsY(x10), Button(LinuxInput.ButtonRight, 0), Button(LinuxInput.ButtonMiddle, 0), InputEvent.SyncReport);
    }

    [Fact]
    public void A_press_of_button_4_or_5_is_one_wheel_step_and_its_release_nothing()
    {
        _pointer.PointerEvent(0, 0, 0b01000, 1, 1);
        _pointer.PointerEvent(0, 0, 0b00000, 1, 1);
        _pointer.PointerEvent(0, 0, 0b10000, 1, 1);
        _pointer.PointerEvent(0, 0, 0b10000, 1, 1);   // still held: no second step
        _driver.Read(14).Should().Equal(
            AbsX(16384), AbsY(16384), Wheel(1), InputEvent.SyncReport,
            AbsX(16384), AbsY(16384), InputEvent.SyncReport,
            AbsX(16384), AbsY(16384), Wheel(-1), InputEvent.SyncReport,
            AbsX(16384), AbsY(16384), InputEvent.SyncReport);
    }

    [Fact]
    public void A_horizontal_wheel_is_dropped_as_the_tablet_has_none()
    {
        _pointer.PointerEvent(0, 0, 0b0100000, 1, 1);
        _pointer.PointerEvent(0, 0, 0b1000000, 1, 1);
        _driver.Read(6).Should().Equal(
            AbsX(16384), AbsY(16384), InputEvent.SyncReport,
            AbsX(16384), AbsY(16384), InputEvent.SyncReport);
    }
}
