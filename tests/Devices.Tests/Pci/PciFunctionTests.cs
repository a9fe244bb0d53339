using Platform.Devices.Pci;
using Platform.Devices.Tests.Fakes;

namespace Platform.Devices.Tests.Pci;

// BARs, the command register, status and INTx of a function, reached only through the configuration ports.
public sealed class PciFunctionTests
{
    private const int Slot = 4;
    private readonly RecordingBarObserver _observer = new();
    private readonly RecordingInterruptLine _intx = new();
    private readonly RecordingMsiTarget _msi = new();
    private readonly PciBus _bus;
    private readonly PciConfigPorts _ports;
    private readonly TestPciFunction _function;

    public PciFunctionTests()
    {
        _bus = new PciBus(_observer);
        _ports = new PciConfigPorts(new PciHostBridge(_bus));
        _function = new TestPciFunction(_msi, _intx);
        _bus.Attach(Slot, _function);
    }

    private void EnableMemory(bool on) =>
        _ports.Write16(Slot, PciRegisters.Command, on ? PciRegisters.CommandMemorySpace : (ushort)0);

    [Fact]
    public void A_32_bit_BAR_sizes_with_all_ones_and_keeps_its_type_bits_read_only()
    {
        _ports.SizeBar(Slot, 0).Should().Be(TestPciFunction.RegistersBarSize);
        _ports.Write32(Slot, PciRegisters.Bar0, 0xFFFF_FFFF);
        _ports.Read32(Slot, PciRegisters.Bar0).Should().Be(0xFFFF_F000, "low bits below the size and the type bits read 0");
        _ports.Write32(Slot, PciRegisters.Bar0, 0xC000_1234);
        _ports.Read32(Slot, PciRegisters.Bar0).Should().Be(0xC000_1000);
    }

    [Fact]
    public void A_64_bit_BAR_reports_its_type_and_sizes_across_both_registers()
    {
        uint low = _ports.Read32(Slot, PciRegisters.Bar0 + 8);
        (low & 0b1111).Should().Be(PciRegisters.BarMemory64Bit | PciRegisters.BarMemoryPrefetchable);
        _ports.SizeBar(Slot, 2).Should().Be(TestPciFunction.MsixBarSize);
        _ports.Write32(Slot, PciRegisters.Bar0 + 12, 0x0000_0001);
        _ports.Read32(Slot, PciRegisters.Bar0 + 12).Should().Be(1);
    }

    [Fact]
    public void Unimplemented_BARs_and_the_expansion_ROM_read_zero_after_a_sizing_write()
    {
        _ports.Write32(Slot, PciRegisters.Bar0 + 4, 0xFFFF_FFFF);
        _ports.Read32(Slot, PciRegisters.Bar0 + 4).Should().Be(0);
        _ports.Write32(Slot, PciRegisters.ExpansionRom, 0xFFFF_FFFF);
        _ports.Read32(Slot, PciRegisters.ExpansionRom).Should().Be(0);
    }

    [Fact]
    public void Enabling_memory_decoding_maps_the_programmed_BARs_and_disabling_unmaps_them()
    {
        _ports.Write32(Slot, PciRegisters.Bar0, 0xC000_0000);
        _ports.Write32(Slot, PciRegisters.Bar0 + 8, 0xC001_0000);
        _ports.Write32(Slot, PciRegisters.Bar0 + 12, 0);
        _observer.Changes.Should().BeEmpty("nothing decodes while the command register's memory bit is clear");

        EnableMemory(true);
        _observer.Changes.Should().Equal(
            (Slot, 0, (PciBarMapping?)null, (PciBarMapping?)new PciBarMapping(0xC000_0000, 0x1000)),
            (Slot, 2, (PciBarMapping?)null, (PciBarMapping?)new PciBarMapping(0xC001_0000, 0x4000)));
        _function.BarMapping(0).Should().Be(new PciBarMapping(0xC000_0000, 0x1000));

        _observer.Changes.Clear();
        EnableMemory(false);
        _observer.Changes.Should().Equal(
            (Slot, 0, (PciBarMapping?)new PciBarMapping(0xC000_0000, 0x1000), (PciBarMapping?)null),
            (Slot, 2, (PciBarMapping?)new PciBarMapping(0xC001_0000, 0x4000), (PciBarMapping?)null));
        _function.BarMapping(0).Should().BeNull();
    }

    [Fact]
    public void Moving_a_BAR_while_decoding_reports_the_old_and_new_place()
    {
        _ports.Write32(Slot, PciRegisters.Bar0, 0xC000_0000);
        EnableMemory(true);
        _observer.Changes.Clear();

        _ports.Write32(Slot, PciRegisters.Bar0, 0xD000_0000);
        _observer.Changes.Should().ContainSingle().Which.Should().Be(
            (Slot, 0, (PciBarMapping?)new PciBarMapping(0xC000_0000, 0x1000), (PciBarMapping?)new PciBarMapping(0xD000_0000, 0x1000)));

        _observer.Changes.Clear();
        _ports.Write32(Slot, PciRegisters.Bar0, 0xD000_0000);
        _observer.Changes.Should().BeEmpty("rewriting the same address moves nothing");
    }

    [Fact]
    public void The_command_register_keeps_only_the_bits_we_implement()
    {
        _ports.Write16(Slot, PciRegisters.Command, 0xFFFF);
        _ports.Read16(Slot, PciRegisters.Command).Should().Be(PciRegisters.CommandWritableBits,
            "I/O space has no BAR to decode here, and reserved bits are read-only zero");
    }

    [Fact]
    public void Status_error_bits_clear_when_written_with_one_and_the_rest_is_read_only()
    {
        _function.SetStatusBits(0x2000); // received master abort
        ushort status = _ports.Read16(Slot, PciRegisters.Status);
        (status & 0x2000).Should().Be(0x2000);
        (status & PciRegisters.StatusCapabilityList).Should().NotBe(0);

        _ports.Write16(Slot, PciRegisters.Status, 0x0010);
        (_ports.Read16(Slot, PciRegisters.Status) & 0x2010).Should().Be(0x2010, "writing 0 keeps W1C bits; capability bit is read-only");
        _ports.Write16(Slot, PciRegisters.Status, 0x2000);
        (_ports.Read16(Slot, PciRegisters.Status) & 0x2000).Should().Be(0);
    }

    [Fact]
    public void Identity_registers_are_read_only()
    {
        _ports.Write32(Slot, PciRegisters.VendorId, 0);
        _ports.Write32(Slot, PciRegisters.RevisionId, 0);
        _ports.Read32(Slot, PciRegisters.VendorId).Should().Be(0x5678_1234);
        _ports.Read32(Slot, PciRegisters.RevisionId).Should().Be(0x0FF0_0002);
    }

    [Fact]
    public void INTx_follows_the_pending_state_the_interrupt_disable_bit_and_shows_in_status()
    {
        _ports.Read8(Slot, PciRegisters.InterruptPin).Should().Be(PciRegisters.InterruptPinA);
        _function.RaiseInterrupt();
        _intx.Asserted.Should().BeTrue("MSI-X is off, so the function uses INTA#");
        (_ports.Read16(Slot, PciRegisters.Status) & PciRegisters.StatusInterrupt).Should().NotBe(0);

        _ports.Write16(Slot, PciRegisters.Command, PciRegisters.CommandInterruptDisable);
        _intx.Asserted.Should().BeFalse();
        (_ports.Read16(Slot, PciRegisters.Status) & PciRegisters.StatusInterrupt).Should().NotBe(0,
            "the status bit shows the function's state even while the pin is disabled");

        _ports.Write16(Slot, PciRegisters.Command, 0);
        _intx.Asserted.Should().BeTrue();
        _function.LowerIntx();
        _intx.Asserted.Should().BeFalse();
        (_ports.Read16(Slot, PciRegisters.Status) & PciRegisters.StatusInterrupt).Should().Be(0);
    }

    [Fact]
    public void BAR_accesses_outside_the_BAR_are_counted_and_read_zero()
    {
        Span<byte> b = stackalloc byte[4];
        b.Fill(0xAA);
        _function.ReadBar(0, TestPciFunction.RegistersBarSize - 2, b);
        b.ToArray().Should().Equal(0, 0, 0, 0);
        _function.ReadBar(1, 0, b);
        _function.BadAccesses.Should().Be(2);
    }
}
