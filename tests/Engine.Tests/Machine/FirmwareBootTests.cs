using Platform.Devices.Virtio.Block;
using Platform.Engine.Machine;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Machine;

// Debian's SeaBIOS on our machine: started at the reset vector, logging to port 0x402 as under QEMU.
public sealed class FirmwareBootTests
{
    private static readonly TimeSpan BiosTimeout = TimeSpan.FromSeconds(60);

    private static MachineConfig Bios(params DiskOptions[] disks) => Bios(1, disks);

    private static MachineConfig Bios(int cpus, params DiskOptions[] disks) => new()
    {
        Firmware = FirmwareKind.Bios,
        CpuCount = cpus,
        MemoryBytes = 128ul << 20,
        Display = DisplayKind.None,
        Disks = disks,
    };

    [Fact]
    public async Task SeaBIOS_runs_from_the_reset_vector_and_logs_to_port_0x402()
    {
        var serial = new SerialCapture();
        var log = new SerialCapture();
        using var machine = MachineInstance.Create(Bios(), serial, firmwareLog: log);
        machine.Start();

        // The version line and the build line arrive byte by byte: wait for the later one, then check both.
        string text = await log.WaitForAsync("BUILD: gcc", BiosTimeout);

        text.Should().Contain("SeaBIOS (version");
        machine.FirmwareDebugPort!.BytesWritten.Should().BePositive();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task SeaBIOS_boots_the_MBR_guest_from_virtio_blk_and_its_BIOS_calls_answer(int cpus)
    {
        var serial = new SerialCapture();
        var log = new SerialCapture();
        using var machine = MachineInstance.Create(Bios(cpus, new DiskOptions(TestGuests.BootImage("mbr"), ReadOnly: true)), serial, firmwareLog: log);
        machine.Start();

        var exit = await machine.Exited.WaitAsync(BiosTimeout, TestContext.Current.CancellationToken);

        string output = serial.Text;
        output.Should().Contain("PLATFORM-TEST mbr PASS", $"the guest printed:\n{output}")
            .And.Contain("mbr: int 13h extended read of sectors 1-2: second stage intact")
            .And.Contain("mbr: booted from drive 0x80")
            .And.Contain("mbr: int 10h teletype says hello", "SeaBIOS's serial console carries int 10h to COM1")
            .And.Contain("mbr: int 10h returned and the BIOS timer ticked 3 times")
            .And.Contain("mbr: int 14h writes this line")
            .And.Contain("mbr: int 13h drive parameters: sectors 0x00000800 of 0x00000200")
            .And.Contain("mbr: e820 0000000000000000 000000000009fc00 01")
            .And.Contain("mbr: e820 has RAM at 0 and at 1 MiB");
        log.Text.Should().Contain("Searching bootorder for: /pci@i0cf8/*@2").And.Contain("Booting from Hard Disk...")
            .And.Contain($"Found {cpus} cpu(s) max supported {cpus} cpu(s)", "SeaBIOS woke every AP with INIT-SIPI");
        exit.Reason.Should().Be(MachineExitReason.Reset, "the guest ends with the i8042 reset pulse");
        var chipset = (Platform.Devices.Pci.I440fxHostBridgeFunction)machine.Pci.Devices[0]!;
        chipset.Mode(0).Should().Be(Platform.Devices.Pci.ShadowRamMode.ReadOnly, "SeaBIOS write-protects its shadow copy before booting");
    }

    [Fact]
    public async Task With_a_display_SeaBIOS_runs_the_VGA_BIOS_from_fw_cfg_as_the_std_vgas_option_ROM()
    {
        var serial = new SerialCapture();
        var log = new SerialCapture();
        using var machine = MachineInstance.Create(Bios() with { Display = DisplayKind.Std }, serial, firmwareLog: log);
        machine.Start();

        await log.WaitForAsync("Booting from", BiosTimeout);

        string text = log.Text;
        text.Should().Contain("Running option rom at c000:0003", $"the log was:\n{text}")
            .And.MatchRegex(@"VBE DISPI: bdf 00:0[0-9a-f]\.0, bar 0", "the VGA BIOS was handed the std-vga's address, so it finds BAR 0")
            .And.NotContain("sercon: using ioport", "with a display SeaBIOS's screen is the VGA, not COM1");
    }

    [Fact]
    public async Task SeaBIOS_finds_QEMUs_chipset_and_fw_cfg_shadows_itself_and_finds_nothing_to_boot()
    {
        var serial = new SerialCapture();
        var log = new SerialCapture();
        using var machine = MachineInstance.Create(Bios(), serial, firmwareLog: log);
        machine.Start();

        await serial.WaitForAsync("No bootable device.", BiosTimeout);

        log.Text.Should().Contain("Running on QEMU (i440fx)").And.Contain("Found QEMU fw_cfg")
            .And.Contain("QEMU fw_cfg DMA interface supported")
            .And.Contain("qemu/e820: addr 0x0000000000000000 len 0x0000000008000000 [RAM]")
            .And.Contain("Relocating init from", "shadow RAM at 0xE0000-0xFFFFF became writable and held the copy")
            .And.Contain("PIIX3/PIIX4 init: elcr=00 0c")
            .And.Contain("sercon: using ioport 0x3f8", "no display: SeaBIOS's screen goes to COM1")
            .And.NotContain("Unable to unlock ram").And.NotContain("WARNING");
        serial.Text.Should().Contain("SeaBIOS (version");
        var bios = machine.GetDeviceStats().Single(d => d.Name == "bios");
        bios.Counters["remap_failures"].Should().Be(0);
        Enumerable.Range(0, 4).Select(machine.PciDevices.IsaBridge!.PirqRoute).Should().Equal(10, 10, 11, 11);
        machine.GetDeviceStats().Single(d => d.Name == "fw_cfg").Counters["dma_errors"].Should().Be(0);
    }
}
