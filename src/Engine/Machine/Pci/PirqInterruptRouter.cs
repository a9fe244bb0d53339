using Platform.Devices.Abstractions;
using Platform.Devices.Pci;

namespace Platform.Engine.Machine.Pci;

/// <summary>
/// PCI INTx on the PC chipset (firmware machines), as the PIIX3 does it and QEMU's piix models it: device N's pin P
/// drives PIRQ (N + P − 2) mod 4 (the i440FX board's swizzle: device 1's INTA is PIRQA), each PIRQ's route register
/// (0x60–0x63) names an ISA IRQ or none, and an ISA IRQ's level is the OR of the PIRQs routed to it, each the OR of its
/// devices. The level goes out as a GSI of that ISA number, which the machine's GSI table sends to the 8259 pin and the
/// IOAPIC pin of the same number (<see cref="GsiRouting"/>), so PIC-mode guests (DOS, <c>noapic</c>) and APIC-mode
/// guests that follow the MP table or the DSDT's link devices both see it.
/// </summary>
/// <remarks>
/// A route written while a line is asserted moves it at once: the old IRQ drops (unless another PIRQ still holds it)
/// and the new one rises, as QEMU's <c>piix_update_irq_levels</c> does. Unlike QEMU, only the IRQs this router raised
/// are ever lowered, so a PIRQ pointed at an ISA device's IRQ cannot clear that device's level by letting go.
/// </remarks>
internal sealed class PirqInterruptRouter : IIntxRouting
{
    public const int PirqCount = Piix3IsaBridgeFunction.PirqCount;
    private const int IsaIrqs = 16;

    private readonly Action<uint, bool> _setGsi;
    private readonly Func<int, int?> _route;
    private readonly Lock _lock = new();
    private readonly int[] _asserted = new int[PirqCount];
    private readonly int?[] _routes = new int?[PirqCount];
    private readonly bool[] _driven = new bool[IsaIrqs];

    /// <param name="setGsi">Drives a GSI to a level: the machine's <c>KvmVm.SetIrqLine</c>.</param>
    /// <param name="route">The ISA IRQ a PIRQ (0 = A) is routed to, or null: the PIIX3's <see cref="Piix3IsaBridgeFunction.PirqRoute"/>.</param>
    public PirqInterruptRouter(Action<uint, bool> setGsi, Func<int, int?> route)
    {
        _setGsi = setGsi;
        _route = route;
        RoutesChanged();
    }

    /// <summary>The PIRQ (0 = A) that device <paramref name="device"/>'s pin <paramref name="pin"/> (1 = INTA) drives.</summary>
    public static int Pirq(int device, int pin) => (device + pin - 2) & (PirqCount - 1);

    public IInterruptLine Wire(int device, int pin)
    {
        int pirq = Pirq(device, pin);
        return new DeviceIntxWire(asserted => Change(pirq, asserted));
    }

    /// <summary>Re-reads the route registers and moves any asserted line to its new IRQ (the PIIX3's <c>PirqRoutesChanged</c>).</summary>
    public void RoutesChanged()
    {
        lock (_lock)
        {
            for (int pirq = 0; pirq < PirqCount; pirq++)
            {
                _routes[pirq] = _route(pirq) is int irq and >= 0 and < IsaIrqs ? irq : null;
            }

            Drive();
        }
    }

    private void Change(int pirq, bool assert)
    {
        lock (_lock)
        {
            _asserted[pirq] += assert ? 1 : -1;
            Drive();
        }
    }

    /// <summary>Sets every ISA IRQ to the OR of the asserted PIRQs routed to it, touching only the IRQs whose level changes.</summary>
    private void Drive()
    {
        Span<bool> wanted = stackalloc bool[IsaIrqs];
        for (int pirq = 0; pirq < PirqCount; pirq++)
        {
            if (_asserted[pirq] > 0 && _routes[pirq] is { } irq)
            {
                wanted[irq] = true;
            }
        }

        // Lower first, then raise: a moved line is never on two IRQs at once.
        for (int pass = 0; pass < 2; pass++)
        {
            bool raise = pass == 1;
            for (int irq = 0; irq < IsaIrqs; irq++)
            {
                if (wanted[irq] != _driven[irq] && wanted[irq] == raise)
                {
                    _driven[irq] = raise;
                    _setGsi((uint)irq, raise);
                }
            }
        }
    }
}

/// <summary>How a machine wires PCI INTx: each device's pin to the interrupt line it drives.</summary>
internal interface IIntxRouting
{
    /// <summary>Device <paramref name="device"/>'s wire for its interrupt pin <paramref name="pin"/> (1 = INTA).</summary>
    IInterruptLine Wire(int device, int pin);
}
