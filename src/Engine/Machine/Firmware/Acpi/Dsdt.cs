using Platform.Engine.Machine.Pci;

namespace Platform.Engine.Machine.Firmware.Acpi;

/// <summary>
/// The DSDT's AML (after the table header): the PCI root bridge with its interrupt routing, the PIIX3's ISA devices
/// that firmware and OSes look for by ID, a processor device per vCPU, and the S5 sleep type.
/// </summary>
/// <remarks>
/// <para>In ASL:</para>
/// <code>
/// Scope (\_SB) {
///   Device (PCI0) {
///     Name (_HID, EisaId ("PNP0A03")) Name (_ADR, 0) Name (_UID, 0)
///     Name (_PRT, Package () { Package () { 0x0001FFFF, 0, 0, 17 }, ... })   // slot, pin → GSI 16–23
///     Device (ISA) { Name (_ADR, 0x00010000)
///       Device (KBD) { PNP0303, IO 0x60, 0x64, IRQ 1 }   Device (MOU) { PNP0F13, IRQ 12 }
///       Device (COM1) { PNP0501, IO 0x3F8, IRQ 4 }       Device (RTC) { PNP0B00, IO 0x70, IRQ 8 } } }
///   Device (C000) { Name (_HID, "ACPI0007") Name (_UID, 0) } ...
/// }
/// Name (\_S5, Package () { 0, 0, 0, 0 })   // PIIX4's SLP_TYP for soft-off is 0, as QEMU's
/// </code>
/// <para>SeaBIOS reads this table too: it drives the PS/2 keyboard only when the DSDT has PNP0303 in it. The power button
/// is the fixed-feature one (the FADT's PWR_BUTTON flag clear), so it needs no device here.</para>
/// <para>A direct boot has no PIIX3 (its slot 1 holds an ordinary device), so its ISA devices sit straight under
/// <c>\_SB</c>, as in QEMU's microvm DSDT, rather than under a <c>Device (ISA)</c> that would claim 00:01.0.</para>
/// <para>The routing table is for APIC mode, the one our chipset delivers PCI INTx in: each slot's pins reach IOAPIC
/// pins 16–23 (<see cref="PciInterruptWires"/>), not the ISA IRQs of the PIIX3's PIRQ links.</para>
/// </remarks>
internal static class Dsdt
{
    private const int PciSlots = 32, PinsPerSlot = 4;

    /// <param name="isaBridge">Whether the PIIX3 at 00:01.0 holds the ISA devices (firmware) or they go under \_SB (direct boot).</param>
    public static byte[] Build(int cpuCount, bool isaBridge = true)
    {
        var processors = Enumerable.Range(0, cpuCount)
            .Select(cpu => Aml.Device($"C{cpu:X3}", Aml.Name("_HID", Aml.String("ACPI0007")), Aml.Name("_UID", Aml.Integer((ulong)cpu))));
        byte[][] system = isaBridge ? [PciRoot(IsaDevices()), .. processors] : [PciRoot([]), .. IsaDevices(), .. processors];
        return [.. Aml.Scope("_SB", system), .. Aml.Name("_S5", Aml.Package(Aml.Integer(0), Aml.Integer(0), Aml.Integer(0), Aml.Integer(0)))];
    }

    /// <param name="isaDevices">Empty, or the ISA devices to hang under the PIIX3's function at 00:01.0.</param>
    private static byte[] PciRoot(byte[][] isaDevices)
    {
        byte[][] terms =
        [
            Aml.Name("_HID", Aml.EisaId("PNP0A03")),
            Aml.Name("_ADR", Aml.Integer(0)),
            Aml.Name("_UID", Aml.Integer(0)),
            Aml.Name("_PRT", RoutingTable()),
        ];
        return isaDevices.Length == 0
            ? Aml.Device("PCI0", terms)
            : Aml.Device("PCI0", [.. terms, Aml.Device("ISA", [Aml.Name("_ADR", Aml.Integer(0x0001_0000)), .. isaDevices])]);
    }

    private static byte[][] IsaDevices() =>
    [
        IsaDevice("KBD", "PNP0303", Aml.ResourceTemplate(Aml.Io(0x60, 1), Aml.Io(0x64, 1), Aml.IrqNoFlags(1))),
        IsaDevice("MOU", "PNP0F13", Aml.ResourceTemplate(Aml.IrqNoFlags(12))),
        IsaDevice("COM1", "PNP0501", Aml.ResourceTemplate(Aml.Io(0x3F8, 8), Aml.IrqNoFlags(4)), uid: 1),
        IsaDevice("RTC", "PNP0B00", Aml.ResourceTemplate(Aml.Io(0x70, 2), Aml.IrqNoFlags(8))),
    ];

    private static byte[] IsaDevice(string name, string eisaId, byte[] resources, int? uid = null)
    {
        var terms = new List<byte[]> { Aml.Name("_HID", Aml.EisaId(eisaId)) };
        if (uid is { } id)
        {
            terms.Add(Aml.Name("_UID", Aml.Integer((ulong)id)));
        }

        terms.Add(Aml.Name("_CRS", resources));
        return Aml.Device(name, [.. terms]);
    }

    /// <summary>
    /// One entry per slot and pin (slot 0, the host bridge, has none): the address (slot in the high word, any function),
    /// the pin (0 = INTA), no link device (0), and the GSI the pin is wired to: 31 slots × 4 pins, within a Package's 255.
    /// </summary>
    private static byte[] RoutingTable()
    {
        var entries = new List<byte[]>();
        for (int slot = 1; slot < PciSlots; slot++)
        {
            for (int pin = 0; pin < PinsPerSlot; pin++)
            {
                entries.Add(Aml.Package(
                    Aml.Integer(((ulong)slot << 16) | 0xFFFF),
                    Aml.Integer((ulong)pin),
                    Aml.Integer(0),
                    Aml.Integer((ulong)PciInterruptWires.IoApicPin(slot, pin + 1))));
            }
        }

        return Aml.Package([.. entries]);
    }
}
