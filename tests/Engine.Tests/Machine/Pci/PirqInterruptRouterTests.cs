using Platform.Devices.Pci;
using Platform.Engine.Machine.Pci;

namespace Platform.Engine.Tests.Machine.Pci;

// PCI INTx through the PIIX3's PIRQ route registers, driven as a guest drives them: config writes to 00:01.0's 0x60-0x63.
public sealed class PirqInterruptRouterTests
{
    private readonly List<(uint Gsi, bool Level)> _levels = [];
    private readonly Piix3IsaBridgeFunction _piix3 = new(multiFunction: true);
    private readonly PirqInterruptRouter _router;

    public PirqInterruptRouterTests()
    {
        _router = new PirqInterruptRouter((gsi, level) => _levels.Add((gsi, level)), _piix3.PirqRoute);
        _piix3.PirqRoutesChanged = _router.RoutesChanged;
    }

    private void Route(int pirq, byte value) => _piix3.WriteConfig(Piix3IsaBridgeFunction.FirstPirqRoute + pirq, [value]);

    [Theory]
    [InlineData(1, 1, 0)]
    [InlineData(2, 1, 1)]
    [InlineData(4, 1, 3)]
    [InlineData(5, 1, 0)]
    [InlineData(3, 1, 2)]
    [InlineData(2, 2, 2)]
    [InlineData(2, 4, 0)]
    public void The_board_swizzles_slot_and_pin_onto_PIRQ_A_to_D_as_QEMUs_i440FX(int device, int pin, int pirq) =>
        PirqInterruptRouter.Pirq(device, pin).Should().Be(pirq);

    [Fact]
    public void A_line_on_a_disabled_PIRQ_reaches_nothing_until_the_route_is_written_and_then_at_once()
    {
        var wire = _router.Wire(3, 1); // PIRQC

        wire.SetLevel(true);
        _levels.Should().BeEmpty("PIRQC is routed nowhere after reset (bit 7)");

        Route(2, 11);
        _levels.Should().Equal([(11u, true)], "an asserted line follows the route as soon as it is written");

        wire.SetLevel(false);
        _levels.Should().Equal((11u, true), (11u, false));
    }

    [Fact]
    public void Rerouting_an_asserted_line_lowers_the_old_IRQ_then_raises_the_new_one()
    {
        Route(1, 10);
        var wire = _router.Wire(2, 1); // PIRQB
        wire.SetLevel(true);

        Route(1, 5);

        _levels.Should().Equal((10u, true), (10u, false), (5u, true));
    }

    [Fact]
    public void Disabling_a_route_lowers_the_line_it_carried()
    {
        Route(0, 11);
        var wire = _router.Wire(1, 1);
        wire.SetLevel(true);

        Route(0, Piix3IsaBridgeFunction.PirqDisabled | 11);

        _levels.Should().Equal((11u, true), (11u, false));
    }

    [Fact]
    public void PIRQs_sharing_an_IRQ_keep_it_up_until_the_last_lets_go_and_shared_devices_likewise()
    {
        Route(0, 10);
        Route(1, 10);
        var a = _router.Wire(1, 1);
        var b = _router.Wire(2, 1);
        var a2 = _router.Wire(5, 1); // PIRQA too

        a.SetLevel(true);
        b.SetLevel(true);
        a2.SetLevel(true);
        a.SetLevel(false);
        b.SetLevel(false);
        _levels.Should().Equal([(10u, true)], "device 5 still asserts PIRQA");

        a2.SetLevel(false);
        _levels.Should().Equal((10u, true), (10u, false));
    }

    [Fact]
    public void Reserved_IRQs_in_a_route_register_route_nothing()
    {
        Route(3, 2); // IRQ 2 is the cascade: the chip routes nothing there
        _router.Wire(4, 1).SetLevel(true);

        _levels.Should().BeEmpty();
    }
}
