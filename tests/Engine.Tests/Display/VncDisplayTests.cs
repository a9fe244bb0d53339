using System.Net.Sockets;
using Platform.Engine.Machine;
using Platform.Engine.Tests.Infrastructure;
using Platform.Engine.Tests.Vnc.Support;
using Platform.Engine.Vnc;

namespace Platform.Engine.Tests.Display;

// The fb test guest behind vnc.sock, in-process as platform-vmm runs it: what a VNC client sees, what its keys do, a
// client that stops reading, and clients across a reboot.
public sealed class VncDisplayTests
{
    private static readonly TimeSpan GuestTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ScreenTimeout = TimeSpan.FromSeconds(30);

    // X11 keysyms and the XT scancodes QEMU's extended key event carries.
    private const uint KeysymH = 0x68, KeysymI = 0x69, KeysymTab = 0xFF09, KeysymEscape = 0xFF1B;
    private const uint ScancodeI = 0x17;

    private static async Task TypeAsync(RfbTestClient client, uint keysym)
    {
        await client.SendKeyAsync(keysym, down: true);
        await client.SendKeyAsync(keysym, down: false);
    }

    [Fact]
    public async Task A_client_sees_the_picture_types_keys_and_follows_a_mode_change()
    {
        await using var vm = ControlledVm.Start("fb");
        await vm.WaitForOutputAsync("READY", GuestTimeout);
        File.GetUnixFileMode(vm.VncSocket).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await using var client = await FbGuestScreen.ConnectUnixAsync(vm.VncSocket);

        uint box = await FbGuestScreen.WaitForChecksumAsync(vm, "480x48 fnv ", GuestTimeout);
        await FbGuestScreen.ReadUntilAsync(client, c => FbGuestScreen.BoxChecksum(c) == box, ScreenTimeout, "the guest's box and text");
        (client.Width, client.Height).Should().Be((640, 480));
        FbGuestScreen.ShouldShowBars((x, y) => client.Screen[(y * client.Width) + x], 640, 480);

        // A plain key event: the server turns the keysym into PS/2 scancodes.
        await TypeAsync(client, KeysymH);
        uint echo = await FbGuestScreen.WaitForChecksumAsync(vm, "fb: key 'h' echo fnv ", GuestTimeout);
        await FbGuestScreen.ReadUntilAsync(client, c => FbGuestScreen.EchoChecksum(c) == echo, ScreenTimeout, "the echoed h");

        // QEMU's extended key event: the scancode goes to the guest as it is.
        client.ExtendedKeyEventAcknowledged.Should().BeTrue();
        await client.SendQemuKeyAsync(KeysymI, ScancodeI, down: true);
        await client.SendQemuKeyAsync(KeysymI, ScancodeI, down: false);
        echo = await FbGuestScreen.WaitForChecksumAsync(vm, "fb: key 'i' echo fnv ", GuestTimeout);
        await FbGuestScreen.ReadUntilAsync(client, c => FbGuestScreen.EchoChecksum(c) == echo, ScreenTimeout, "the echoed i");

        // Tab: the guest sets 800x600 and draws again; the client is told the new size.
        await TypeAsync(client, KeysymTab);
        box = await FbGuestScreen.WaitForChecksumAsync(vm, "box 100,375 600x48 fnv ", GuestTimeout);
        await FbGuestScreen.ReadUntilAsync(client, c => c.Width == 800 && FbGuestScreen.BoxChecksum(c) == box, ScreenTimeout, "the 800x600 picture");
        client.DesktopSizes.Should().ContainSingle().Which.Should().Be((-1, 0, 800, 600));

        var stats = vm.Host.GetStats().Devices;
        var vnc = stats.Single(d => d.Name == "vnc").Counters;
        vnc["clients"].Should().Be(1);
        vnc["updates"].Should().BeGreaterThan(3);
        vnc["bytes_sent"].Should().BeGreaterThan(client.BytesRead / 2);
        vnc["protocol_errors"].Should().Be(0);
        var display = stats.Single(d => d.Name == "display").Counters;
        (display["mode_width"], display["mode_height"], display["mode_bpp"]).Should().Be((800, 600, 32));

        await TypeAsync(client, KeysymEscape);
        await vm.WaitForOutputAsync("PLATFORM-TEST fb PASS", GuestTimeout);
        (await vm.Run.WaitAsync(GuestTimeout, TestContext.Current.CancellationToken)).Should().Be(VmmExitCode.GuestReset);
    }

    [Fact]
    public async Task A_client_that_stops_reading_stalls_neither_the_guest_nor_other_clients()
    {
        await using var vm = ControlledVm.Start("fb");
        await vm.WaitForOutputAsync("READY", GuestTimeout);
        var server = vm.Host.Display!.Server;

        // Raw pixels, a full screen each time asked, and never a byte read back.
        var stalled = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await stalled.ConnectAsync(new UnixDomainSocketEndPoint(vm.VncSocket), TestContext.Current.CancellationToken);
        await using var stalledClient = new RfbTestClient(new NetworkStream(stalled, ownsSocket: true));
        await stalledClient.HandshakeAsync();
        await stalledClient.SetEncodingsAsync(RfbEncoding.Raw);
        for (int i = 0; i < 64; i++)
        {
            await stalledClient.RequestUpdateAsync(incremental: false);
        }

        await using var client = await FbGuestScreen.ConnectUnixAsync(vm.VncSocket);
        string typed = "abcdefghijklmnopqrst";
        foreach (char c in typed)
        {
            await TypeAsync(client, c);
            await vm.WaitForOutputAsync($"fb: key '{c}'", GuestTimeout);
            await stalledClient.RequestUpdateAsync(incremental: false);
        }

        uint echo = await FbGuestScreen.WaitForChecksumAsync(vm, "fb: key 't' echo fnv ", GuestTimeout);
        await FbGuestScreen.ReadUntilAsync(client, c => FbGuestScreen.EchoChecksum(c) == echo, ScreenTimeout, "all the echoed keys");
        server.ClientCount.Should().Be(2, "the stalled client is still connected");
        server.ClientOutputCapacities().Should().OnlyContain(capacity => capacity <= 2 * 640 * 480 * 4,
            "a client that does not read costs about one screen, however much it asked for");
    }

    [Fact]
    public async Task Clients_stay_connected_across_a_reboot_and_type_into_the_new_boot()
    {
        await using var vm = ControlledVm.Start("fb", onReboot: RebootPolicy.Restart);
        await vm.WaitForOutputAsync("READY", GuestTimeout);
        await using var client = await FbGuestScreen.ConnectUnixAsync(vm.VncSocket);
        uint box = await FbGuestScreen.WaitForChecksumAsync(vm, "480x48 fnv ", GuestTimeout);
        await TypeAsync(client, 'x');
        uint echoX = await FbGuestScreen.WaitForChecksumAsync(vm, "fb: key 'x' echo fnv ", GuestTimeout);
        await FbGuestScreen.ReadUntilAsync(client, c => FbGuestScreen.EchoChecksum(c) == echoX, ScreenTimeout, "the first boot's echoed x");

        // system_reset: the machine is rebuilt, the guest boots again and draws a fresh picture.
        vm.Host.Reset();
        var deadline = DateTime.UtcNow + GuestTimeout;
        while (vm.Output.Split("READY").Length < 3)
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the guest boots again");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        vm.Host.Boots.Should().Be(2);

        // The same connection types into the new boot and sees its screen: y where the first boot echoed x.
        await TypeAsync(client, 'y');
        uint echoY = await FbGuestScreen.WaitForChecksumAsync(vm, "fb: key 'y' echo fnv ", GuestTimeout);
        echoY.Should().NotBe(echoX);
        await FbGuestScreen.ReadUntilAsync(client, c => FbGuestScreen.EchoChecksum(c) == echoY && FbGuestScreen.BoxChecksum(c) == box,
            ScreenTimeout, "the second boot's picture with y echoed");
        vm.Host.Display!.Server.ClientCount.Should().Be(1);
    }
}
