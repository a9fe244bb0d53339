using Platform.Devices.Pci;
using Platform.Devices.Tests.Fakes;

namespace Platform.Devices.Tests.Pci;

public sealed class PciBusTests
{
    private readonly RecordingBarObserver _observer = new();
    private readonly PciBus _bus;
    private readonly PciConfigPorts _ports;

    public PciBusTests()
    {
        _bus = new PciBus(_observer);
        _ports = new PciConfigPorts(new PciHostBridge(_bus));
    }

    [Fact]
    public void AssignBars_places_each_BAR_naturally_aligned_in_the_window_and_enables_decoding()
    {
        var a = new TestPciFunction(new RecordingMsiTarget(), null);
        var b = new TestPciFunction(new RecordingMsiTarget(), null);
        _bus.Attach(1, a);
        _bus.Attach(2, b);

        _bus.AssignBars(0xC000_0000, 0x100_0000);

        var mappings = new[] { a.BarMapping(0), a.BarMapping(2), b.BarMapping(0), b.BarMapping(2) };
        mappings.Should().OnlyContain(m => m.HasValue);
        foreach (var m in mappings.Select(m => m!.Value))
        {
            (m.Address % m.Size).Should().Be(0);
            m.Address.Should().BeGreaterThanOrEqualTo(0xC000_0000);
            m.End.Should().BeLessThanOrEqualTo(0xC100_0000);
        }

        mappings.Select(m => m!.Value.Address).Should().OnlyHaveUniqueItems();
        _observer.Changes.Should().HaveCount(4);
        (_ports.Read16(1, PciRegisters.Command) & PciRegisters.CommandMemorySpace).Should().NotBe(0);
    }

    [Fact]
    public void AssignBars_refuses_a_window_too_small()
    {
        _bus.Attach(1, new TestPciFunction(new RecordingMsiTarget(), null));
        var act = () => _bus.AssignBars(0xC000_0000, 0x2000);
        act.Should().Throw<InvalidOperationException>().WithMessage("*no room*");
    }

    [Fact]
    public void The_MMIO_window_follows_BARs_as_the_guest_moves_them()
    {
        var f = new TestPciFunction(new RecordingMsiTarget(), null);
        _bus.Attach(1, f);
        var window = _bus.CreateMmioWindow(0xC000_0000);
        _ports.Write32(1, PciRegisters.Bar0, 0xC000_1000);
        _ports.Write16(1, PciRegisters.Command, PciRegisters.CommandMemorySpace);

        window.Write(0x1010, [1, 2, 3, 4]);
        Span<byte> back = stackalloc byte[4];
        f.ReadBar(0, 0x10, back);
        back.ToArray().Should().Equal(1, 2, 3, 4);

        _ports.Write32(1, PciRegisters.Bar0, 0xC000_8000);
        window.Read(0x8010, back);
        back.ToArray().Should().Equal(1, 2, 3, 4);
        window.Read(0x1010, back);
        back.ToArray().Should().Equal(0xFF, 0xFF, 0xFF, 0xFF);
        window.UnclaimedAccesses.Should().Be(1);
    }

    [Fact]
    public void Slots_are_exclusive_and_the_host_bridge_takes_slot_0()
    {
        _bus.Devices[0].Should().BeOfType<PciHostBridgeFunction>();
        _bus.FreeSlot().Should().Be(1);
        _bus.Attach(1, new TestPciFunction(new RecordingMsiTarget(), null));
        var act = () => _bus.Attach(1, new TestPciFunction(new RecordingMsiTarget(), null));
        act.Should().Throw<ArgumentOutOfRangeException>();
    }
}
