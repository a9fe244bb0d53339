using Platform.Devices.Display;
using Platform.Devices.Virtio.Block;
using Platform.Engine.Machine;
using Platform.Engine.Tests.Infrastructure;
using Platform.Engine.Tests.Vnc.Support;
using Platform.Engine.Vnc;

namespace Platform.Engine.Tests.Display;

// SeaBIOS and Debian's vgabios-stdvga set a graphics mode for a boot-sector guest (tests/guests/boot/vga.S), which
// draws through int 10h and the VGA's write modes, map mask and palette; a VNC client sees the picture, and it is
// QEMU's picture of the same guest (-device VGA, its screendump) pixel for pixel.
public sealed class FirmwareGraphicsModeTests
{
    private static readonly TimeSpan BiosTimeout = TimeSpan.FromSeconds(90);

    // The DAC's 6-bit colours widened by repeating their top bits (0x2A → 0xAA, 0x15 → 0x55), as StdVga does.
    private const uint Blue = 0x0000AA, Red = 0xAA0000, Brown = 0xAA5500, Yellow = 0xFFFF55, White = 0xFFFFFF,
        Magenta = 0xFF00FF, LightRed = 0xFF5555, LightCyan = 0x55FFFF, LightMagenta = 0xFF55FF, Black = 0;

    [Fact]
    public async Task Mode_12h_drawn_by_the_vga12_guest_is_the_640x480_picture_a_VNC_client_sees()
    {
        (string serial, uint[] screen, int width, int height) = await BootAndViewAsync("vga12");

        serial.Should().Contain("vga12: int 10h read pixel 0x0e", "the BIOS read back the pixel it XORed with 0Fh over colour 1");
        (width, height).Should().Be((640, 480));
        ShouldShowVga12Picture((x, y) => screen[(y * width) + x]);
    }

    /// <summary>What vga12 draws (tests/guests/boot/vga.S), at the edges of each block, through <paramref name="at"/>.</summary>
    internal static void ShouldShowVga12Picture(Func<int, int, uint> at)
    {
        at(0, 0).Should().Be(Blue, "colour 1 by set/reset");
        at(10, 10).Should().Be(Yellow, "int 10h AH=0Ch with XOR: 1 ^ 0Fh = 0Eh");
        at(200, 0).Should().Be(Red, "plane 2 alone through the map mask");
        at(200, 60).Should().Be(Brown, "plane 1 added to the left four pixels of each byte: colour 6 (palette 14h)");
        at(204, 60).Should().Be(Red);
        at(320, 0).Should().Be(Yellow, "write mode 2 under bit mask AAh: even pixels");
        at(321, 0).Should().Be(Black, "odd pixels keep the latches");
        at(500, 0).Should().Be(White, "colour 2 after int 10h set palette register 2 to 3Fh");
        at(0, 150).Should().Be(Magenta, "colour 7 after int 10h set DAC register 7");
        at(250, 150).Should().Be(White, "the diagonal int 10h AH=0Ch drew");
        at(251, 150).Should().Be(Black);
        at(639, 479).Should().Be(LightRed, "the last pixel, colour 0Ch");
        at(639, 478).Should().Be(Black);
    }

    [Fact]
    public async Task CGA_mode_04h_drawn_by_the_vga04_guest_is_a_320x200_picture_with_its_interleaved_lines()
    {
        (string serial, uint[] screen, int width, int height) = await BootAndViewAsync("vga04");

        serial.Should().Contain("vga04: int 10h read pixel 0x03");
        (width, height).Should().Be((320, 200));
        uint At(int x, int y) => screen[(y * width) + x];
        At(0, 0).Should().Be(LightCyan, "55h: colour 1 of CGA palette 1");
        At(0, 1).Should().Be(LightCyan, "the odd-line bank holds the same block");
        At(100, 0).Should().Be(LightMagenta);
        At(200, 0).Should().Be(White);
        Enumerable.Range(240, 4).Select(x => At(x, 99)).Should().Equal(Black, LightCyan, LightMagenta, White);
        At(0, 100).Should().Be(Black, "even lines of the lower block were not written");
        At(0, 101).Should().Be(White, "odd lines were, in the bank at 2000h");
        At(110, 130).Should().Be(White, "int 10h AH=0Ch's diagonal");
        At(319, 199).Should().Be(LightMagenta, "the last pixel, in the odd bank");
    }

    // vga10, vga0d and vga06 are vga12's and vga04's drawing in modes 10h (640x350), 0Dh (320x200) and 06h (640x200,
    // 1 bit a pixel): each picture and the pixel int 10h reads back must be QEMU's.
    [Theory]
    [InlineData("vga12")]
    [InlineData("vga04")]
    [InlineData("vga10")]
    [InlineData("vga0d")]
    [InlineData("vga06")]
    public async Task The_picture_is_QEMUs_pixel_for_pixel(string guest)
    {
        Task<(string Serial, QemuScreendump.Picture Screen)> qemu =
            QemuScreendump.BootAndCaptureAsync(TestGuests.BootImage(guest), $"PLATFORM-TEST {guest} PASS", BiosTimeout);
        (string serial, uint[] ours, int width, int height) = await BootAndViewAsync(guest);
        (string qemuSerial, QemuScreendump.Picture theirs) = await qemu;

        string ReadBack(string text) => text.Split('\n').Single(l => l.StartsWith($"{guest}: int 10h read pixel", StringComparison.Ordinal));
        ReadBack(serial).Should().Be(ReadBack(qemuSerial));

        // QEMU doubles the pixels of a halved dot clock and repeats doubled scan lines (mode 04h is 640x400 there);
        // each of our pixels is one block of its picture. Colours compare as the 6 bits the DAC holds: QEMU widens
        // them by repeating bit 0, we by repeating the top bits.
        theirs.Width.Should().BeOneOf(width, width * 2);
        theirs.Height.Should().BeOneOf(height, height * 2);
        int fx = theirs.Width / width, fy = theirs.Height / height;
        var differences = new List<string>();
        for (int y = 0; y < theirs.Height; y++)
        {
            for (int x = 0; x < theirs.Width; x++)
            {
                uint mine = ours[((y / fy) * width) + (x / fx)], qemus = theirs[x, y];
                if (Dac6(mine) != Dac6(qemus) && differences.Count < 10)
                {
                    differences.Add($"QEMU ({x},{y}) {qemus:x6}, ours ({x / fx},{y / fy}) {mine:x6}");
                }
            }
        }

        differences.Should().BeEmpty();
    }

    private static uint Dac6(uint rgb) => (rgb >> 2) & 0x3F3F3F;

    /// <summary>Boots the guest on our machine with a std-vga until it has drawn, and reads its screen as a VNC client.</summary>
    private static async Task<(string Serial, uint[] Screen, int Width, int Height)> BootAndViewAsync(string guest)
    {
        var serial = new SerialCapture();
        var config = new MachineConfig
        {
            Firmware = FirmwareKind.Bios,
            MemoryBytes = 128ul << 20,
            Display = DisplayKind.Std,
            Input = InputKind.Ps2,
            Disks = [new DiskOptions(TestGuests.BootImage(guest), ReadOnly: true)],
        };
        using var machine = MachineInstance.Create(config, serial);
        machine.Start();
        await serial.WaitForAsync($"PLATFORM-TEST {guest} PASS", BiosTimeout);
        serial.Text.Should().NotContain($"PLATFORM-TEST {guest} FAIL");

        StdVga vga = machine.Display!.Vga;
        var source = new StdVgaFramebufferSource(vga, readDirtyLog: null, showLegacyModes: true, milliseconds: () => 0);
        using var server = new VncServer(source);
        (RfbTestClient client, Task served, _) = RfbTestClient.Connect(server);
        uint[] screen;
        int width, height;
        await using (client)
        {
            await client.HandshakeAsync();
            await client.RequestUpdateAsync(incremental: false);
            await client.ReadUpdateAsync();
            (screen, width, height) = (client.Screen, client.Width, client.Height);

            // Nothing changed since: the picture is not drawn again and the server compares no pixels.
            long drawn = source.Legacy.DrawingRefreshes;
            server.Refresh();
            server.Refresh();
            source.Legacy.DrawingRefreshes.Should().Be(drawn);
            server.LastRefreshPixelsCompared.Should().Be(0);
        }

        await served;
        machine.GetDeviceStats().Single(d => d.Name == "display").Counters["bad_accesses"].Should().Be(0);
        return (serial.Text, screen, width, height);
    }
}
