namespace Platform.Devices.Pci;

/// <summary>
/// Told when a BAR starts, stops or moves decoding — because the guest (or the host, placing BARs as firmware
/// would) wrote the BAR or toggled the command register's memory-space bit. The engine implements it to move
/// the device's MMIO range and re-register its ioeventfds.
/// </summary>
/// <remarks>
/// Called on the thread that wrote configuration space (a vCPU thread), after the function's lock is released,
/// in the order that thread made the changes (guests program one function's BARs from one CPU at a time). <paramref name="previous"/> or <paramref name="current"/> is null when the
/// BAR was or is not decoding. The address is whatever the guest programmed: the engine decides whether it lies
/// in the PCI window and ignores (but remembers) mappings that do not.
/// </remarks>
public interface IPciBarObserver
{
    void BarMappingChanged(PciFunction device, int barIndex, PciBarMapping? previous, PciBarMapping? current);
}
