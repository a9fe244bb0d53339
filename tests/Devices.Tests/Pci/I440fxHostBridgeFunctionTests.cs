using Platform.Devices.Pci;
using Platform.Devices.Tests.Fakes;

namespace Platform.Devices.Tests.Pci;

// The i440FX and PIIX3 through ports 0xCF8/0xCFC as SeaBIOS programs them: found by ID, PAM written as whole dwords
// (shadow.c's make_bios_writable/readonly), PIRQ routes written as bytes (pciinit.c's piix_isa_bridge_setup).
public sealed class I440fxHostBridgeFunctionTests
{
    private readonly RecordingShadowRam _shadow = new();
    private readonly PciBus _bus;
    private readonly PciConfigPorts _ports;
    private readonly Piix3IsaBridgeFunction _isa = new();

    public I440fxHostBridgeFunctionTests()
    {
        _bus = new PciBus(hostBridge: new I440fxHostBridgeFunction(_shadow));
        _bus.Attach(1, _isa);
        _ports = new PciConfigPorts(new PciHostBridge(_bus));
    }

    [Fact]
    public void Firmware_finds_QEMUs_i440FX_and_PIIX3_by_their_IDs()
    {
        _ports.Read32(0, 0x00).Should().Be(0x1237_8086);
        _ports.Read32(0, 0x2C).Should().Be(0x1100_1AF4, "SeaBIOS trusts fw_cfg only under QEMU's subsystem IDs");
        (_ports.Read32(0, 0x08) >> 8).Should().Be(0x06_00_00, "a host bridge");
        _ports.Read8(0, 0x08).Should().Be(0x02, "revision 2");
        _ports.Read32(1, 0x00).Should().Be(0x7000_8086);
        (_ports.Read32(1, 0x08) >> 8).Should().Be(0x06_01_00, "an ISA bridge");
        _ports.Read8(0, 0x72).Should().Be(0x02, "SMRAM control's reset value");
    }

    [Fact]
    public void SeaBIOSs_unlock_and_lock_remap_each_changed_segment_once()
    {
        // make_bios_writable: 0x5A-0x5F = 0x33, PAM0 = 0x30 (the dwords at 0x58 and 0x5C).
        _ports.Write32(0, 0x58, 0x3333_3000);
        _ports.Write32(0, 0x5C, 0x3333_3333);

        _shadow.Changes.Should().HaveCount(13);
        Enumerable.Range(0, 13).Should().OnlyContain(s => _shadow.Modes[s] == ShadowRamMode.ReadWrite);

        // make_bios_readonly with ROMs up to 0xC8000: 0xC0000-0xC7FFF read-only, the rest stays writable, PAM0 = 0x10.
        _shadow.Changes.Clear();
        _ports.Write32(0, 0x58, 0x3311_1000);
        _ports.Write32(0, 0x5C, 0x3333_3333);

        _shadow.Changes.Should().Equal((0, ShadowRamMode.ReadOnly), (1, ShadowRamMode.ReadOnly), (2, ShadowRamMode.ReadOnly));
    }

    [Theory]
    [InlineData(0x59, 0x10, 0, ShadowRamMode.ReadOnly)]
    [InlineData(0x5A, 0x02, 1, ShadowRamMode.WriteOnly)]
    [InlineData(0x5A, 0x30, 2, ShadowRamMode.ReadWrite)]
    [InlineData(0x5F, 0x10, 12, ShadowRamMode.ReadOnly)]
    [InlineData(0x5F, 0x01, 11, ShadowRamMode.ReadOnly)]
    public void Each_PAM_field_governs_its_segment(int register, byte value, int segment, ShadowRamMode mode)
    {
        _ports.Write8(0, register, value);

        _shadow.Changes.Should().Equal((segment, mode));
        var bridge = (I440fxHostBridgeFunction)_bus.Devices[0]!;
        bridge.Mode(segment).Should().Be(mode);
        ShadowRamSegments.Range(segment).Address.Should().Be(segment == 0 ? 0xF0000 : 0xC0000 + ((ulong)(segment - 1) * 0x4000));
    }

    [Fact]
    public void Bits_outside_the_fields_are_stored_and_remap_nothing()
    {
        _ports.Write8(0, 0x59, 0xCF); // reserved low nibble, and the high field's unused bits
        _ports.Write8(0, 0x40, 0xAB);

        _shadow.Changes.Should().BeEmpty();
        _ports.Read8(0, 0x59).Should().Be(0xCF);
        _ports.Read8(0, 0x40).Should().Be(0xAB);
    }

    [Fact]
    public void PIRQ_routes_start_disabled_and_take_the_IRQs_SeaBIOS_writes()
    {
        Enumerable.Range(0, 4).Select(_isa.PirqRoute).Should().OnlyContain(irq => irq == null);

        byte[] irqs = [10, 10, 11, 11];
        for (int i = 0; i < 4; i++)
        {
            _ports.Write8(1, 0x60 + i, irqs[i]);
        }

        Enumerable.Range(0, 4).Select(_isa.PirqRoute).Should().Equal(10, 10, 11, 11);
        _ports.Write8(1, 0x60, 0x02);
        _isa.PirqRoute(0).Should().BeNull("IRQ 2 is reserved: the chip routes nothing");
        _ports.Read8(1, 0x4C).Should().Be(0x4D, "the ISA I/O recovery timer's reset value");
    }

    [Fact]
    public void The_engine_hears_of_every_write_that_touches_a_route_register_and_of_no_other()
    {
        var routesSeen = new List<int?[]>();
        _isa.PirqRoutesChanged = () => routesSeen.Add([.. Enumerable.Range(0, 4).Select(_isa.PirqRoute)]);

        _ports.Write8(1, 0x5F, 0x01);
        _ports.Write8(1, 0x64, 0x01);
        routesSeen.Should().BeEmpty("0x5F and 0x64 are not routes");

        _ports.Write8(1, 0x62, 11);
        _ports.Write32(1, 0x60, 0x0B0B_0A0A); // SeaBIOS could write all four at once: one notice
        routesSeen.Should().HaveCount(2);
        routesSeen[0].Should().Equal(new int?[] { null, null, 11, null }, "the notice comes after the write, so the new route reads back");
        routesSeen[1].Should().Equal(new int?[] { 10, 10, 11, 11 });
    }

    private sealed class RecordingShadowRam : IShadowRamControl
    {
        public List<(int Segment, ShadowRamMode Mode)> Changes { get; } = [];

        public ShadowRamMode[] Modes { get; } = new ShadowRamMode[ShadowRamSegments.Count];

        public void SetMode(int segment, ShadowRamMode mode)
        {
            Changes.Add((segment, mode));
            Modes[segment] = mode;
        }
    }
}
