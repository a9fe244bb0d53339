using Platform.Devices.Virtio.Block;
using Platform.Engine.Machine;
using Platform.Engine.Tests.Infrastructure;
using Platform.Engine.Tests.Vnc.Support;
using Platform.Engine.Vnc;

namespace Platform.Engine.Tests.Display;

// SeaBIOS with Debian's vgabios-stdvga on a machine with a display: the VGA BIOS sets text mode through the std-vga's
// registers and the legacy window, int 10h writes there, and a VNC client sees the text, drawn from the guest's font.
public sealed class FirmwareTextModeTests
{
    private static readonly TimeSpan BiosTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task The_MBR_guests_int_10h_text_is_on_the_720x400_text_screen_a_VNC_client_sees()
    {
        var serial = new SerialCapture();
        var config = new MachineConfig
        {
            Firmware = FirmwareKind.Bios,
            MemoryBytes = 128ul << 20,
            Display = DisplayKind.Std,
            Input = InputKind.Ps2,
            Disks = [new DiskOptions(TestGuests.BootImage("mbr"), ReadOnly: true)],
        };
        using var machine = MachineInstance.Create(config, serial);
        machine.Start();

        await machine.Exited.WaitAsync(BiosTimeout, TestContext.Current.CancellationToken);
        serial.Text.Should().Contain("PLATFORM-TEST mbr PASS", $"the guest printed:\n{serial.Text}");

        var vga = machine.Display!.Vga;
        var source = new StdVgaFramebufferSource(vga, readDirtyLog: null, showLegacyModes: true, milliseconds: () => 0);
        using var server = new VncServer(source);
        (RfbTestClient client, Task served, _) = RfbTestClient.Connect(server);
        await using (client)
        {
            await client.HandshakeAsync();
            (client.Width, client.Height).Should().Be((720, 400), "80x25 text in 9x16 cells, as QEMU shows it");
            await client.RequestUpdateAsync(incremental: false);
            await client.ReadUpdateAsync();

            string[] lines = TextScreen.Decode(client.Screen, client.Width, client.Height, vga);
            string text = string.Join('\n', lines);
            lines.Should().Contain(l => l.StartsWith("SeaBIOS (version ", StringComparison.Ordinal), $"the screen read:\n{text}");
            lines.Should().Contain("Booting from Hard Disk...").And.Contain("mbr: int 10h teletype says hello");

            // Nothing changed since: the legacy screen is not drawn again and the server compares no pixels.
            long drawn = source.Legacy.DrawingRefreshes;
            server.Refresh();
            server.Refresh();
            source.Legacy.DrawingRefreshes.Should().Be(drawn);
            server.LastRefreshPixelsCompared.Should().Be(0);
        }

        await served;
        machine.GetDeviceStats().Single(d => d.Name == "display").Counters["bad_accesses"].Should().Be(0);
    }
}
