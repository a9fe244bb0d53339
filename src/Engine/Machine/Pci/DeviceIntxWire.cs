using Platform.Devices.Abstractions;

namespace Platform.Engine.Machine.Pci;

/// <summary>
/// One PCI device's own INTx wire: it reports only real changes of its level to the line it shares with other devices
/// (<paramref name="changed"/>), so the shared line can count how many devices assert it — a device that sets the same
/// level twice must not count twice. Both INTx wirings use it (<see cref="PciInterruptWires"/>, <see cref="PirqInterruptRouter"/>).
/// </summary>
internal sealed class DeviceIntxWire(Action<bool> changed) : IInterruptLine
{
    private readonly Lock _lock = new();
    private bool _level;

    public void SetLevel(bool asserted)
    {
        lock (_lock)
        {
            if (asserted != _level)
            {
                _level = asserted;
                changed(asserted);
            }
        }
    }
}
