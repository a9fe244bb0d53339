using Platform.Engine.Machine.Pci;

namespace Platform.Engine.Tests.Machine.Pci;

public sealed class PciInterruptWiresTests
{
    [Theory]
    [InlineData(1, 1, 17)]
    [InlineData(7, 1, 23)]
    [InlineData(8, 1, 16)]
    [InlineData(9, 1, 17)]
    [InlineData(1, 2, 18)]
    public void Devices_and_pins_spread_over_IOAPIC_pins_16_to_23(int device, int pin, int ioApicPin) =>
        PciInterruptWires.IoApicPin(device, pin).Should().Be(ioApicPin);

    [Fact]
    public void A_shared_pin_stays_asserted_until_every_device_on_it_lets_go()
    {
        var levels = new List<(uint Gsi, bool Level)>();
        var wires = new PciInterruptWires((gsi, level) => levels.Add((gsi, level)));
        var first = wires.Wire(1, 1);
        var second = wires.Wire(9, 1); // the same pin as device 1

        first.SetLevel(true);
        second.SetLevel(true);
        first.SetLevel(false);
        levels.Should().Equal([(17u, true)], "device 9 still asserts pin 17");

        second.SetLevel(false);
        levels.Should().Equal((17u, true), (17u, false));
    }

    [Fact]
    public void Repeating_a_level_changes_nothing()
    {
        var levels = new List<(uint Gsi, bool Level)>();
        var wire = new PciInterruptWires((gsi, level) => levels.Add((gsi, level))).Wire(2, 1);

        wire.SetLevel(true);
        wire.SetLevel(true);
        wire.SetLevel(false);
        wire.SetLevel(false);

        levels.Should().Equal((18u, true), (18u, false));
    }
}
