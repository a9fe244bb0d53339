using Platform.Devices.Pci;

namespace Platform.Devices.Tests.Fakes;

/// <summary>Remembers every BAR mapping change the bus reported, as the engine's observer would receive them.</summary>
public sealed class RecordingBarObserver : IPciBarObserver
{
    public List<(int Device, int Bar, PciBarMapping? Previous, PciBarMapping? Current)> Changes { get; } = [];

    public void BarMappingChanged(PciFunction device, int barIndex, PciBarMapping? previous, PciBarMapping? current) =>
        Changes.Add((device.DeviceNumber, barIndex, previous, current));
}
