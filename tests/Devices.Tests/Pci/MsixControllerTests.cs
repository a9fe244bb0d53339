using System.Buffers.Binary;
using Platform.Devices.Pci;
using Platform.Devices.Tests.Fakes;

namespace Platform.Devices.Tests.Pci;

// MSI-X as Linux's pci_msix_* code drives it: find the capability, map the table BAR, program and unmask vectors.
public sealed class MsixControllerTests
{
    private const int Slot = 2;
    private readonly RecordingMsiTarget _msi = new();
    private readonly RecordingInterruptLine _intx = new();
    private readonly PciConfigPorts _ports;
    private readonly TestPciFunction _function;
    private readonly int _cap;

    public MsixControllerTests()
    {
        var bus = new PciBus();
        _ports = new PciConfigPorts(new PciHostBridge(bus));
        _function = new TestPciFunction(_msi, _intx);
        bus.Attach(Slot, _function);
        _cap = _ports.FindCapability(Slot, PciRegisters.CapabilityIdMsix);
    }

    private ushort Control => _ports.Read16(Slot, _cap + 2);

    private void SetControl(ushort value) => _ports.Write16(Slot, _cap + 2, value);

    private uint TableRead(int vector, int field)
    {
        Span<byte> b = stackalloc byte[4];
        _function.ReadBar(TestPciFunction.MsixBar, (ulong)((vector * 16) + field), b);
        return BinaryPrimitives.ReadUInt32LittleEndian(b);
    }

    private void TableWrite(int vector, int field, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        _function.WriteBar(TestPciFunction.MsixBar, (ulong)((vector * 16) + field), b);
    }

    private ulong Pba()
    {
        Span<byte> b = stackalloc byte[8];
        _function.ReadBar(TestPciFunction.MsixBar, TestPciFunction.PbaOffset, b);
        return BinaryPrimitives.ReadUInt64LittleEndian(b);
    }

    private void Program(int vector, uint address, uint data)
    {
        TableWrite(vector, 0, address);
        TableWrite(vector, 4, 0);
        TableWrite(vector, 8, data);
    }

    [Fact]
    public void The_capability_describes_the_table_size_and_where_table_and_PBA_are()
    {
        _cap.Should().NotBe(0);
        (Control & 0x7FF).Should().Be(3, "table size is encoded as N-1");
        _ports.Read32(Slot, _cap + 4).Should().Be(TestPciFunction.MsixBar, "table at offset 0 of BAR 2");
        _ports.Read32(Slot, _cap + 8).Should().Be((uint)TestPciFunction.PbaOffset | TestPciFunction.MsixBar);
        SetControl(0xFFFF);
        Control.Should().Be(0xC003, "only enable and function mask are writable");
    }

    [Fact]
    public void Vectors_start_masked_and_entries_read_back()
    {
        TableRead(1, 12).Should().Be(1);
        Program(1, 0xFEE0_1003, 0x4041);
        TableRead(1, 0).Should().Be(0xFEE0_1000, "the low two address bits are reserved");
        TableRead(1, 8).Should().Be(0x4041);
    }

    [Fact]
    public void An_unmasked_vector_of_an_enabled_function_is_delivered_with_its_message()
    {
        SetControl(MsixController.ControlEnable);
        Program(0, 0xFEE0_0000, 0x31);
        TableWrite(0, 12, 0);
        _msi.Changes.Should().ContainSingle().Which.Should().Be((0, new MsiMessage(0xFEE0_0000, 0x31), false));

        _function.RaiseInterrupt(0);
        _msi.Signals.Should().Equal((0, new MsiMessage(0xFEE0_0000, 0x31)));
        _intx.Asserted.Should().BeFalse("with MSI-X enabled INTx is never used");
    }

    [Fact]
    public void A_masked_vector_becomes_pending_and_is_delivered_once_unmasked()
    {
        SetControl(MsixController.ControlEnable);
        Program(2, 0xFEE0_0000, 0x42);
        _function.RaiseInterrupt(2);
        _msi.Signals.Should().BeEmpty();
        Pba().Should().Be(0b100);

        TableWrite(2, 12, 0);
        _msi.Signals.Should().Equal((2, new MsiMessage(0xFEE0_0000, 0x42)));
        Pba().Should().Be(0);
    }

    [Fact]
    public void The_function_mask_holds_every_vector_and_releases_pending_ones()
    {
        SetControl(MsixController.ControlEnable);
        Program(0, 0xFEE0_0000, 0x30);
        Program(1, 0xFEE0_0000, 0x31);
        TableWrite(0, 12, 0);
        TableWrite(1, 12, 0);
        _msi.Clear();

        SetControl(MsixController.ControlEnable | MsixController.ControlFunctionMask);
        _msi.Changes.Select(c => (c.Vector, c.Masked)).Should().Equal((0, true), (1, true));
        _function.RaiseInterrupt(1);
        _msi.Signals.Should().BeEmpty();
        Pba().Should().Be(0b10);

        SetControl(MsixController.ControlEnable);
        _msi.Signals.Should().Equal((1, new MsiMessage(0xFEE0_0000, 0x31)));
        Pba().Should().Be(0);
    }

    [Fact]
    public void Changing_an_unmasked_vector_updates_its_route_and_a_masked_one_waits_for_the_unmask()
    {
        SetControl(MsixController.ControlEnable);
        Program(0, 0xFEE0_0000, 0x30);
        _msi.Changes.Should().BeEmpty("the vector is masked: its route can wait");
        TableWrite(0, 12, 0);
        TableWrite(0, 8, 0x55);
        _msi.Changes.Should().Equal(
            (0, new MsiMessage(0xFEE0_0000, 0x30), false),
            (0, new MsiMessage(0xFEE0_0000, 0x55), false));
    }

    [Fact]
    public void With_MSI_X_disabled_the_function_falls_back_to_INTx()
    {
        _function.RaiseInterrupt(0);
        _intx.Asserted.Should().BeTrue();
        _msi.Signals.Should().BeEmpty();
    }

    [Fact]
    public void Qword_table_accesses_work_and_odd_widths_and_PBA_writes_are_counted()
    {
        Span<byte> q = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(q, 0x0000_0001_FEE0_0000);
        _function.WriteBar(TestPciFunction.MsixBar, 16, q);
        TableRead(1, 4).Should().Be(1);

        _function.WriteBar(TestPciFunction.MsixBar, 12, [0]);
        _function.WriteBar(TestPciFunction.MsixBar, 2, [0, 0, 0, 0]);
        _function.WriteBar(TestPciFunction.MsixBar, TestPciFunction.PbaOffset, [1, 0, 0, 0]);
        _function.Msix!.BadAccesses.Should().Be(3);
        TableRead(0, 12).Should().Be(1, "the byte write did not unmask vector 0");
        Pba().Should().Be(0);
    }
}
