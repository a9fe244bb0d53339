using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Machine;

/// <summary>
/// The in-kernel irqchip's GSI table, laid out as QEMU's pc machine does: GSI 0 (the PIT) reaches PIC pin 0 and
/// IOAPIC pin 2, every other ISA GSI its own pins, and GSIs 16–23 the IOAPIC only. The MP table says the same.
/// </summary>
internal static class GsiRouting
{
    private const uint PicMaster = 0, PicSlave = 1, IoApic = 2;
    public const int IoApicPins = 24;

    public static KvmIrqRoutingEntry[] QemuCompatible()
    {
        var entries = new List<KvmIrqRoutingEntry>();
        for (uint gsi = 0; gsi < 16; gsi++)
        {
            if (gsi != 2)
            {
                entries.Add(Irqchip(gsi, gsi < 8 ? PicMaster : PicSlave, gsi % 8));
            }
        }

        for (uint gsi = 0; gsi < IoApicPins; gsi++)
        {
            if (gsi != 2)
            {
                entries.Add(Irqchip(gsi, IoApic, (uint)MpTable.IsaIrqToIoApicPin((int)gsi)));
            }
        }

        return [.. entries];
    }

    private static KvmIrqRoutingEntry Irqchip(uint gsi, uint chip, uint pin) =>
        new() { Gsi = gsi, Type = KvmIrqRoutingEntry.TypeIrqchip, Irqchip = chip, Pin = pin };
}
