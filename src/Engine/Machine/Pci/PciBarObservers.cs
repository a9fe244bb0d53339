using Platform.Devices.Pci;

namespace Platform.Engine.Machine.Pci;

/// <summary>
/// The bus's one <see cref="IPciBarObserver"/>: hands each BAR move to whatever the engine hung off that function's
/// BARs (a virtio device's ioeventfds; a framebuffer's memory slot). Filled while the machine is built.
/// </summary>
internal sealed class PciBarObservers : IPciBarObserver
{
    private readonly Dictionary<PciFunction, IPciBarObserver> _observers = [];
    private readonly Lock _lock = new();

    public void Add(PciFunction function, IPciBarObserver observer)
    {
        lock (_lock)
        {
            _observers.Add(function, observer);
        }
    }

    public void BarMappingChanged(PciFunction device, int barIndex, PciBarMapping? previous, PciBarMapping? current)
    {
        IPciBarObserver? observer;
        lock (_lock)
        {
            _observers.TryGetValue(device, out observer);
        }

        observer?.BarMappingChanged(device, barIndex, previous, current);
    }
}
