using Platform.Devices.Abstractions;

namespace Platform.Engine.Machine.Pci;

/// <summary>
/// PCI INTx: device N's pin P (1 = INTA) is wired to IOAPIC pin 16 + (N + P − 1) mod 8, level triggered, active
/// low — the GSIs 16–23 that <see cref="GsiRouting"/> sends to the IOAPIC alone and that the MP table names. Pins are
/// shared once there are more than eight devices, so each pin is the OR of its devices' lines, as on a real board:
/// KVM_IRQ_LINE carries one level per GSI, and one device lowering it must not hide another that still asserts it.
/// This is a direct boot's wiring (no PIIX3: a q35-like board with the IOAPIC's upper pins for PCI); a firmware machine
/// routes INTx through the PIIX3's PIRQ registers instead (<see cref="PirqInterruptRouter"/>).
/// </summary>
/// <param name="setGsi">Drives a GSI to a level: the machine's <c>KvmVm.SetIrqLine</c>.</param>
internal sealed class PciInterruptWires(Action<uint, bool> setGsi) : IIntxRouting
{
    public const int FirstIoApicPin = 16;
    public const int PinCount = 8;

    private readonly SharedPin[] _pins = [.. Enumerable.Range(FirstIoApicPin, PinCount).Select(p => new SharedPin(setGsi, (uint)p))];

    /// <summary>The IOAPIC pin (= GSI) of device <paramref name="device"/>'s interrupt pin <paramref name="pin"/> (1–4).</summary>
    public static int IoApicPin(int device, int pin) => FirstIoApicPin + ((device + pin - 1) % PinCount);

    /// <summary>A device's own wire to its pin; asserting it asserts the pin until every device on it has let go.</summary>
    public IInterruptLine Wire(int device, int pin) => new DeviceIntxWire(_pins[IoApicPin(device, pin) - FirstIoApicPin].Change);

    private sealed class SharedPin(Action<uint, bool> setGsi, uint gsi)
    {
        private readonly Lock _lock = new();
        private int _asserted;

        public void Change(bool assert)
        {
            lock (_lock)
            {
                int before = _asserted;
                _asserted += assert ? 1 : -1;
                if ((before == 0) != (_asserted == 0))
                {
                    setGsi(gsi, _asserted != 0);
                }
            }
        }
    }
}
