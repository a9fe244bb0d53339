using Platform.Devices.Virtio.Input;
using Platform.Engine.Machine;
using Platform.Engine.Tests.Infrastructure;
using Platform.Engine.Tests.Vnc.Support;
using Platform.Engine.Vnc;

namespace Platform.Engine.Tests.Display;

// The input test guest drives the machine's virtio tablet and keyboard as Linux's virtio_input does; a VNC client on
// vnc.sock points, clicks, scrolls and types, and the guest prints every event it receives.
public sealed class VirtioInputGuestTests
{
    private static readonly TimeSpan GuestTimeout = TimeSpan.FromSeconds(90);

    private const uint KeysymA = 0x61, KeysymUp = 0xFF52, KeysymEscape = 0xFF1B;
    private const uint QnumUp = 0xC8;   // E0 48 as QEMU's extended key event carries it

    private static IEnumerable<string> Lines(string output, string prefix) =>
        output.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.StartsWith(prefix, StringComparison.Ordinal));

    private static async Task TypeAsync(RfbTestClient client, uint keysym)
    {
        await client.SendKeyAsync(keysym, down: true);
        await client.SendKeyAsync(keysym, down: false);
    }

    [Fact]
    public async Task A_viewers_pointer_and_keys_reach_the_guest_as_framed_virtio_input_events()
    {
        await using var vm = ControlledVm.Start("input");
        string probe = await vm.WaitForOutputAsync("READY", GuestTimeout);
        probe.Should().Contain("input: 00:02.0 tablet 'Platform Virtio Tablet' ids 0006:0627:0003:0002 abs x 0..32767 y 0..32767, 5 buttons, wheel yes");
        probe.Should().Contain($"input: 00:03.0 keyboard 'Platform Virtio Keyboard' ids 0006:0627:0001:0001, {XtScancodes.LinuxKeys.Count} keys, leds 0x7, repeat yes");

        await using var client = await FbGuestScreen.ConnectUnixAsync(vm.VncSocket,
            RfbEncoding.Raw, RfbEncoding.DesktopSize, RfbEncoding.QemuExtendedKeyEvent, RfbEncoding.QemuLedState);
        // The guest turned Caps Lock on through the keyboard's status queue; the viewer shows that LED.
        await FbGuestScreen.ReadUntilAsync(client, c => c.LedStates.Contains(0b100), TimeSpan.FromSeconds(30), "the Caps Lock LED");

        await client.SendPointerAsync(100, 200, 0);
        await client.SendPointerAsync(100, 200, 0b001);    // left button down
        await client.SendPointerAsync(100, 200, 0);
        await client.SendPointerAsync(100, 200, 0b10000);  // one wheel step down: press...
        await client.SendPointerAsync(100, 200, 0);        // ...and release
        await TypeAsync(client, KeysymA);
        await client.SendQemuKeyAsync(KeysymUp, QnumUp, down: true);
        await client.SendQemuKeyAsync(KeysymUp, QnumUp, down: false);
        await vm.WaitForOutputAsync("input: keyboard EV_KEY 103 0", GuestTimeout);

        var stats = vm.Host.GetStats().Devices;
        var tablet = stats.Single(d => d.Name == "tablet0");
        tablet.Kind.Should().Be("virtio-tablet");
        tablet.Counters["reports"].Should().Be(5);
        tablet.Counters["events"].Should().Be(18);
        tablet.Counters["dropped_events"].Should().Be(0);
        tablet.Counters["driver_active"].Should().Be(1);
        var keyboard = stats.Single(d => d.Name == "keyboard0").Counters;
        keyboard["reports"].Should().Be(4);
        keyboard["status_events"].Should().Be(1);
        keyboard["leds"].Should().Be(VirtioKeyboard.LedCapsLockBit);
        var vnc = stats.Single(d => d.Name == "vnc").Counters;
        (vnc["keys_to_virtio"], vnc["keys_to_ps2"]).Should().Be((4, 0));

        await TypeAsync(client, KeysymEscape);
        string output = await vm.WaitForOutputAsync("PLATFORM-TEST input PASS", GuestTimeout);

        int x = VirtioTablet.ScaleToAxis(100, client.Width), y = VirtioTablet.ScaleToAxis(200, client.Height);
        string[] position = [$"input: tablet EV_ABS ABS_X {x}", $"input: tablet EV_ABS ABS_Y {y}"];
        const string Syn = "input: tablet EV_SYN SYN_REPORT 0";
        Lines(output, "input: tablet EV_").Should().Equal(
            [.. position, Syn,
             .. position, "input: tablet EV_KEY BTN_LEFT 1", Syn,
             .. position, "input: tablet EV_KEY BTN_LEFT 0", Syn,
             .. position, "input: tablet EV_REL REL_WHEEL -1", Syn,
             .. position, Syn]);

        const string KeySyn = "input: keyboard EV_SYN SYN_REPORT 0";
        Lines(output, "input: keyboard EV_").Should().Equal(
            "input: keyboard EV_KEY 30 1", KeySyn, "input: keyboard EV_KEY 30 0", KeySyn,
            "input: keyboard EV_KEY 103 1", KeySyn, "input: keyboard EV_KEY 103 0", KeySyn,
            "input: keyboard EV_KEY 1 1", KeySyn, "input: keyboard EV_KEY 1 0", KeySyn);
        Lines(output, "ps2:").Should().BeEmpty("with the virtio keyboard running, the PS/2 keyboard gets no keys: the guest sees each once");
        (await vm.Run.WaitAsync(GuestTimeout, TestContext.Current.CancellationToken)).Should().Be(VmmExitCode.GuestReset);
    }

    [Fact]
    public async Task The_tablet_and_keyboard_follow_the_display_on_the_bus()
    {
        var serial = new SerialCapture();
        using var machine = MachineInstance.Create(new MachineConfig { KernelPath = TestGuests.Path("pci"), MemoryBytes = 64ul << 20 }, serial);
        machine.Start();
        string output = await serial.WaitForAsync("PLATFORM-TEST pci PASS", GuestTimeout);
        output.Should().Contain("pci: 00:01.0 1234:1111 class 030000\n");
        output.Should().Contain("pci: 00:02.0 1af4:1052 class 098000 INTA").And.Contain("pci: 00:03.0 1af4:1052 class 098000 INTA");
        machine.Tablet.Should().NotBeNull();
        machine.VirtioKeyboard.Should().NotBeNull();
    }

    [Fact]
    public async Task With_input_ps2_the_machine_has_only_its_PS2_keyboard()
    {
        var serial = new SerialCapture();
        using var machine = MachineInstance.Create(new MachineConfig
        {
            KernelPath = TestGuests.Path("pci"),
            MemoryBytes = 64ul << 20,
            Input = InputKind.Ps2,
        }, serial);
        machine.Start();
        string output = await serial.WaitForAsync("PLATFORM-TEST pci PASS", GuestTimeout);
        output.Should().Contain("pci: 00:01.0 1234:1111").And.NotContain("1af4:1052");
        (machine.Tablet, machine.VirtioKeyboard).Should().Be((null, null));
        machine.GetDeviceStats().Should().NotContain(d => d.Kind == "virtio-tablet" || d.Kind == "virtio-keyboard");
    }
}
