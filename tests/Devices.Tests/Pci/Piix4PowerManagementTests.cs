using System.Buffers.Binary;
using Platform.Devices.Pci;
using Platform.Devices.Tests.Fakes;

namespace Platform.Devices.Tests.Pci;

// The PIIX4's power management at 00:01.3, programmed as SeaBIOS's piix4_pm_setup does through 0xCF8/0xCFC and then
// driven as an ACPI OS drives the fixed hardware: APM port 0xB2 for ACPI_ENABLE, PM1 status/enable/control, the PM
// timer and GPE0, at the widths ACPICA uses.
public sealed class Piix4PowerManagementTests
{
    private const ulong Pm1Status = 0, Pm1Enable = 2, Pm1Control = 4, PmTimer = 8;

    private readonly RecordingInterruptLine _sci = new();
    private readonly List<ushort?> _moves = [];
    private readonly Piix4PowerManagement _pm;
    private readonly PciConfigPorts _ports;
    private int _powerOffs;

    public Piix4PowerManagementTests()
    {
        var bus = new PciBus();
        bus.Attach(1, new Piix3IsaBridgeFunction(multiFunction: true));
        _pm = new Piix4PowerManagement(_sci, _moves.Add) { PowerOffRequested = () => _powerOffs++ };
        bus.Attach(1, 3, _pm);
        _ports = new PciConfigPorts(new PciHostBridge(bus));
    }

    [Fact]
    public void Its_INTA_is_the_SCI_and_keeps_the_IRQ_9_SeaBIOS_writes_into_the_interrupt_line_with_no_PIRQ_wire()
    {
        _ports.Read8(1, 0x3D, function: 3).Should().Be(1, "INTA, as QEMU's PIIX4 says; the DSDT routes it through LNKS");
        _ports.Write8(1, 0x3C, 9, function: 3);

        _ports.Read8(1, 0x3C, function: 3).Should().Be(9);
        _sci.RisingEdges.Should().Be(0, "naming the line raises nothing");
    }

    [Fact]
    public void Firmware_finds_it_as_function_3_of_the_multi_function_PIIX()
    {
        (_ports.Read8(1, 0x0E) & 0x80).Should().Be(0x80, "function 0's header says more functions follow");
        _ports.Read32(1, 0x00, function: 3).Should().Be(0x7113_8086);
        (_ports.Read32(1, 0x08, function: 3) >> 8).Should().Be(0x06_80_00);
        _ports.Read8(1, 0x08, function: 3).Should().Be(3, "revision 3, as QEMU's");
        _ports.Read32(1, 0x00, function: 1).Should().Be(0xFFFF_FFFF, "no IDE function: an empty function reads all ones");
        _ports.Read8(1, 0x5B, function: 3).Should().Be(0x02, "APMC_EN already set: SeaBIOS must not try to set up SMM");
    }

    [Fact]
    public void SeaBIOSs_setup_maps_the_PM_block_at_PMBASE_once_PMREGMISC_turns_it_on()
    {
        _ports.Write8(1, 0x3C, 9, function: 3);
        _ports.Write32(1, 0x40, 0x0601, function: 3);
        _moves.Should().BeEmpty("PMREGMISC still has the block off");
        _pm.PmBase.Should().Be(0x600);
        _pm.PmBlockBase.Should().BeNull();

        _ports.Write8(1, 0x80, 0x01, function: 3);

        _moves.Should().Equal((ushort?)0x600);
        _pm.PmBlockBase.Should().Be((ushort)0x600);
        _ports.Read32(1, 0x40, function: 3).Should().Be(0x0601u, "bit 0 says I/O space");
        _ports.Write32(1, 0x40, 0xB03F, function: 3);
        _moves.Should().Equal((ushort?)0x600, (ushort?)0xB000);
        _ports.Write8(1, 0x80, 0x00, function: 3);
        _moves.Last().Should().BeNull();
    }

    [Fact]
    public void ACPI_ENABLE_on_the_APM_port_sets_SCI_EN_and_ACPI_DISABLE_clears_it()
    {
        ReadPm16(Pm1Control).Should().Be(0, "ACPI is off at reset: the firmware hands it over");
        _pm.AcpiEnabled.Should().BeFalse();

        _pm.ApmPorts.Write(0, [Piix4PowerManagement.AcpiEnableCommand]);

        ReadPm16(Pm1Control).Should().Be(Piix4PowerManagement.SciEnable);
        _pm.AcpiEnabled.Should().BeTrue();
        Read(_pm.ApmPorts, 0, 1)[0].Should().Be(0xF1);
        _pm.ApmPorts.Write(0, [Piix4PowerManagement.AcpiDisableCommand]);
        _pm.AcpiEnabled.Should().BeFalse();
        _pm.ApmPorts.Write(1, [0x5A]);
        Read(_pm.ApmPorts, 1, 1)[0].Should().Be(0x5A, "the APM status port is a scratch byte");
    }

    [Fact]
    public void The_PM_timer_counts_at_3_579545_MHz_in_24_bits()
    {
        uint first = BinaryPrimitives.ReadUInt32LittleEndian(Read(_pm.PmBlock, PmTimer, 4));
        var started = System.Diagnostics.Stopwatch.StartNew();
        Thread.Sleep(100);
        uint second = BinaryPrimitives.ReadUInt32LittleEndian(Read(_pm.PmBlock, PmTimer, 4));
        double seconds = started.Elapsed.TotalSeconds;

        first.Should().BeLessThan(1u << 24);
        second.Should().BeLessThan(1u << 24);
        double ticks = (second - first) & 0xFF_FFFF;
        ticks.Should().BeInRange(3_579_545 * (seconds - 0.02), 3_579_545 * (seconds + 0.02));
        _pm.PmBlock.Write(PmTimer, [1, 2, 3, 4]);
        _pm.BadAccesses.Should().Be(4, "the timer is read-only");
    }

    [Fact]
    public void The_power_button_is_refused_without_ACPI_and_raises_the_SCI_only_while_enabled_and_pending()
    {
        _pm.PressPowerButton().Should().BeFalse("SCI_EN is clear");
        ReadPm16(Pm1Status).Should().Be(0);

        _pm.ApmPorts.Write(0, [Piix4PowerManagement.AcpiEnableCommand]);
        _pm.PressPowerButton().Should().BeTrue();
        (ReadPm16(Pm1Status) & Piix4PowerManagement.PowerButtonStatus).Should().NotBe(0);
        _sci.Asserted.Should().BeFalse("PWRBTN_EN is still clear");

        WritePm16(Pm1Enable, Piix4PowerManagement.PowerButtonStatus);
        _sci.Asserted.Should().BeTrue("an enabled event is pending");

        WritePm16(Pm1Status, Piix4PowerManagement.PowerButtonStatus); // write 1 to clear
        (ReadPm16(Pm1Status) & Piix4PowerManagement.PowerButtonStatus).Should().Be(0);
        _sci.Asserted.Should().BeFalse();
        _sci.RisingEdges.Should().Be(1);
        _pm.PowerButtonPresses.Should().Be(1);
    }

    [Fact]
    public void The_PM1_event_block_reads_and_writes_as_one_dword_status_low_enable_high()
    {
        _pm.ApmPorts.Write(0, [Piix4PowerManagement.AcpiEnableCommand]);
        _pm.PressPowerButton();
        byte[] both = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(both, (uint)Piix4PowerManagement.PowerButtonStatus << 16);

        _pm.PmBlock.Write(Pm1Status, both); // enable the button, clear nothing

        _sci.Asserted.Should().BeTrue();
        (BinaryPrimitives.ReadUInt32LittleEndian(Read(_pm.PmBlock, Pm1Status, 4)) & 0x0100_0100).Should().Be(0x0100_0100u);
    }

    [Fact]
    public void SLP_EN_with_sleep_type_0_powers_off_and_other_sleep_types_are_counted_and_ignored()
    {
        WritePm16(Pm1Control, (ushort)((5 << 10) | Piix4PowerManagement.SleepEnable));
        _powerOffs.Should().Be(0);
        _pm.UnsupportedSleeps.Should().Be(1);
        ReadPm16(Pm1Control).Should().Be(5 << 10, "SLP_EN reads back 0; SLP_TYP stays");

        WritePm16(Pm1Control, Piix4PowerManagement.SleepEnable | Piix4PowerManagement.SciEnable);

        _powerOffs.Should().Be(1);
    }

    [Fact]
    public void GPE0_status_bits_clear_on_1_and_enable_bytes_are_storage()
    {
        _pm.Gpe0Block.Write(2, [0xFF, 0x01]);
        Read(_pm.Gpe0Block, 0, 4).Should().Equal(0, 0, 0xFF, 0x01);
        _pm.Gpe0Block.Write(0, [0xFF, 0xFF]);
        Read(_pm.Gpe0Block, 0, 2).Should().Equal(0, 0);
        _sci.Asserted.Should().BeFalse("no GPE is pending");
        _pm.Gpe0Block.Write(3, [1, 2]);
        _pm.BadAccesses.Should().Be(1, "a write past GPE0's four bytes is refused");
    }

    [Fact]
    public void Registers_the_PIIX4_lacks_here_read_zero_and_are_counted()
    {
        Read(_pm.PmBlock, 0x10, 4).Should().Equal(0, 0, 0, 0);
        _pm.BadAccesses.Should().Be(4);
        Read(_pm.PmBlock, 62, 4).Should().Equal([0xFF, 0xFF, 0xFF, 0xFF], "past the block's 64 ports");
    }

    private ushort ReadPm16(ulong offset) => BinaryPrimitives.ReadUInt16LittleEndian(Read(_pm.PmBlock, offset, 2));

    private void WritePm16(ulong offset, ushort value)
    {
        byte[] bytes = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, value);
        _pm.PmBlock.Write(offset, bytes);
    }

    private static byte[] Read(Platform.Devices.Abstractions.IBusDevice device, ulong offset, int length)
    {
        byte[] data = new byte[length];
        device.Read(offset, data);
        return data;
    }
}
