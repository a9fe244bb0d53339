using Platform.Devices.Display;
using Platform.Engine.Display;
using Platform.Engine.Machine;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Display;

// The std-vga on a real KVM VM with the fb test guest: the guest finds it on the PCI bus, draws into the memory slot
// (no exits), and the slot's dirty log names exactly the pages it wrote.
public sealed class MachineDisplayTests
{
    private static readonly TimeSpan GuestTimeout = TimeSpan.FromSeconds(60);

    private static MachineInstance Boot(SerialCapture serial, string commandLine, DisplayKind display = DisplayKind.Std)
    {
        var machine = MachineInstance.Create(new MachineConfig
        {
            KernelPath = TestGuests.Path("fb"),
            CommandLine = commandLine,
            MemoryBytes = 64ul << 20,
            Display = display,
        }, serial);
        machine.Start();
        return machine;
    }

    [Theory]
    [InlineData("")]
    [InlineData("move=1")]
    public async Task The_guest_draws_its_picture_into_video_memory_through_the_slot(string commandLine)
    {
        var serial = new SerialCapture();
        using var machine = Boot(serial, commandLine);
        string output = await serial.WaitForAsync("READY", GuestTimeout);

        var display = machine.Display!;
        var bar = display.Function.BarMapping(StdVgaPciFunction.VideoMemoryBar);
        bar.Should().NotBeNull();
        display.SlotMapping.Should().Be(bar, "video memory is mapped wherever BAR 0 decodes");
        output.Should().Contain($"BAR0 0x{MemoryLayout.PciWindowStart:x}").And.Contain("fb: mode 640x480x32 stride 2560");
        if (commandLine == "move=1")
        {
            output.Should().Contain($"-> 0x{bar!.Value.Address:x}");
            bar.Value.Address.Should().NotBe(MemoryLayout.PciWindowStart);
        }

        display.Vga.Mode.Should().Be(new DisplayMode(true, false, 640, 480, 32, 2560, 0, false));
        display.Function.VideoMemoryWritesThroughBar.Should().Be(0, "every pixel went through the memory slot");
        uint expected = FbGuestScreen.GuestChecksum(output, "box 80,300 480x48 fnv ");
        FbGuestScreen.Checksum((x, y) => Pixel(display, x, y), 80, 300, 480, 48).Should().Be(expected);
        FbGuestScreen.ShouldShowBars((x, y) => Pixel(display, x, y), 640, 480);
        Pixel(display, 440, 239).Should().Be(0xFF0000u);
        Pixel(display, 440, 240).Should().Be(0x000000u);
    }

    [Fact]
    public async Task The_dirty_log_names_only_the_pages_the_guest_wrote()
    {
        var serial = new SerialCapture();
        using var machine = Boot(serial, "");
        await serial.WaitForAsync("READY", GuestTimeout);
        var display = machine.Display!;
        var bitmap = new ulong[StdVga.DefaultVideoMemorySize / 4096 / 64];

        display.TryReadDirtyLog(bitmap).Should().BeFalse("the first read after the slot was mapped cannot vouch for earlier writes");
        Array.Clear(bitmap);
        display.TryReadDirtyLog(bitmap).Should().BeTrue();
        bitmap.Should().OnlyContain(w => w == 0, "the guest only polls the keyboard now");

        machine.Keyboard.KeyEvent(0x23, down: true); // h
        machine.Keyboard.KeyEvent(0x23, down: false);
        await serial.WaitForAsync("fb: key 'h'", GuestTimeout);
        Array.Clear(bitmap);
        display.TryReadDirtyLog(bitmap).Should().BeTrue();

        // The echo line: 16 lines from y = 456, 2560 bytes each.
        int firstPage = 456 * 2560 / 4096, lastPage = ((472 * 2560) - 1) / 4096;
        var dirty = Enumerable.Range(0, bitmap.Length * 64).Where(p => (bitmap[p / 64] & (1ul << (p % 64))) != 0).ToList();
        dirty.Should().NotBeEmpty().And.OnlyContain(p => p >= firstPage && p <= lastPage);
    }

    [Fact]
    public async Task The_pci_guest_lists_the_std_vga_after_the_virtio_devices_with_its_two_BARs()
    {
        var serial = new SerialCapture();
        using var machine = MachineInstance.Create(new MachineConfig
        {
            KernelPath = TestGuests.Path("pci"),
            MemoryBytes = 64ul << 20,
            Rng = true,
        }, serial);
        machine.Start();

        string output = await serial.WaitForAsync("PLATFORM-TEST pci PASS", GuestTimeout);
        output.Should().Contain("pci: 00:01.0 1af4:1044").And.Contain("pci: 00:02.0 1234:1111 class 030000\n", "no interrupt pin");
        output.Should().Contain("BAR0 0xe0000000 size 0x1000000 32-bit", "the largest BAR is placed first, as firmware does");
        output.Should().Contain("BAR2 0xe1").And.Contain("size 0x1000 32-bit");
    }

    [Fact]
    public async Task Without_a_display_there_is_no_VGA_on_the_bus()
    {
        var serial = new SerialCapture();
        using var machine = Boot(serial, "", DisplayKind.None);
        await serial.WaitForAsync("PLATFORM-TEST fb FAIL no std-vga", GuestTimeout);
        machine.Display.Should().BeNull();
        machine.GetDeviceStats().Should().NotContain(d => d.Kind == "std-vga");
    }

    [Fact]
    public async Task Query_stats_reports_the_mode_and_the_slot()
    {
        var serial = new SerialCapture();
        using var machine = Boot(serial, "move=1");
        await serial.WaitForAsync("READY", GuestTimeout);

        var stats = machine.GetDeviceStats().Single(d => d.Kind == "std-vga");
        stats.Name.Should().Be("display");
        stats.Counters["mode_width"].Should().Be(640);
        stats.Counters["mode_height"].Should().Be(480);
        stats.Counters["mode_bpp"].Should().Be(32);
        stats.Counters["mode_enabled"].Should().Be(1);
        stats.Counters["slot_moves"].Should().BeGreaterThanOrEqualTo(2, "placed once, then moved by the guest");
        stats.Counters["slot_failures"].Should().Be(0);
    }

    private static uint Pixel(MachineDisplay display, int x, int y) =>
        BitConverter.ToUInt32(display.Vga.VideoMemory.Span.Slice((y * 2560) + (x * 4), 4)) & 0xFFFFFF;
}
