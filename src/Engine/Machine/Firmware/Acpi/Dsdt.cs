using Platform.Devices.Legacy;
using Platform.Devices.Pci;
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
///     Name (_PRT, Package () { Package () { 0x0001FFFF, 0, LNKS, 0 }, Package () { 0x0001FFFF, 1, LNKB, 0 }, ... })
///                                                                 // slot, pin → PIRQ link (00:01's INTA: the SCI)
///     Name (_CRS, ResourceTemplate () { WordBusNumber 0-0xFF, IO 0xCF8 x8, WordIO 0-0xCF7, WordIO 0xD00-0xFFFF,
///       DWordMemory 0xA0000-0xBFFFF, DWordMemory 0xE0000000-0xFEBFFFFF })             // what the bridge decodes
///     Device (ISA) { Name (_ADR, 0x00010000)  OperationRegion (P40C, PCI_Config, 0x60, 4)
///       Device (KBD) { PNP0303, IO 0x60, 0x64, IRQ 1 }   Device (MOU) { PNP0F13, IRQ 12 }
///       Device (COM1) { PNP0501, IO 0x3F8, IRQ 4 }       Device (RTC) { PNP0B00, IO 0x70, IRQ 8 } } }
///   Field (PCI0.ISA.P40C, ByteAcc, NoLock, Preserve) { PRQ0, 8, PRQ1, 8, PRQ2, 8, PRQ3, 8 }
///   Method (IQST, 1) { ... }  Method (IQCR, 1, Serialized) { ... }
///   Device (LNKA) { PNP0C0F, _UID 0, _PRS { 5, 10, 11 }, _STA, _DIS, _CRS, _SRS on PRQ0 } ... LNKD
///   Device (LNKS) { PNP0C0F, _UID 4, _PRS { 9 }, _STA 0x0B, _CRS = _PRS, _DIS and _SRS no-ops }   // the SCI; 00:01.3's INTA
///   Device (HPET) { PNP0103, _UID 0, _STA 0x0F, Memory32Fixed (ReadOnly, 0xFED00000, 0x400) }   // with an HPET
///   Device (C000) { Name (_HID, "ACPI0007") Name (_UID, 0) } ...
/// }
/// Name (\_S5, Package () { 0, 0, 0, 0 })   // PIIX4's SLP_TYP for soft-off is 0, as QEMU's
/// </code>
/// <para>SeaBIOS reads this table too: it drives the PS/2 keyboard only when the DSDT has PNP0303 in it. The power button
/// is the fixed-feature one (the FADT's PWR_BUTTON flag clear), so it needs no device here.</para>
/// <para>A direct boot has no PIIX3 (its slot 1 holds an ordinary device), so its ISA devices sit straight under
/// <c>\_SB</c>, as in QEMU's microvm DSDT, rather than under a <c>Device (ISA)</c> that would claim 00:01.0.</para>
/// <para>PCI interrupts go through the PIIX3's PIRQ links, as the chipset routes them (<see cref="PirqInterruptRouter"/>),
/// so the same table serves an OS in PIC mode and one in APIC mode. A direct boot has no PIIX3: its pins reach IOAPIC
/// pins 16–23 (<see cref="PciInterruptWires"/>), and its routing table names those GSIs with no links.</para>
/// </remarks>
internal static class Dsdt
{
    private const int PciSlots = 32, PinsPerSlot = 4;

    /// <param name="isaBridge">Whether the PIIX3 at 00:01.0 holds the ISA devices (firmware) or they go under \_SB (direct boot).</param>
    /// <param name="hpet">Whether the machine has an HPET, declared as <c>\_SB.HPET</c>.</param>
    public static byte[] Build(int cpuCount, bool isaBridge = true, bool hpet = false)
    {
        var processors = Enumerable.Range(0, cpuCount)
            .Select(cpu => Aml.Device($"C{cpu:X3}", Aml.Name("_HID", Aml.String("ACPI0007")), Aml.Name("_UID", Aml.Integer((ulong)cpu))));
        byte[][] timers = hpet ? [HpetDevice()] : [];
        byte[][] system = isaBridge
            ? [PciRoot(IsaDevices()), .. InterruptLinks(), .. timers, .. processors]
            : [PciRoot([]), .. IsaDevices(), .. timers, .. processors];
        return [.. Aml.Scope("_SB", system), .. Aml.Name("_S5", Aml.Package(Aml.Integer(0), Aml.Integer(0), Aml.Integer(0), Aml.Integer(0)))];
    }

    /// <param name="isaDevices">Empty, or the ISA devices to hang under the PIIX3's function at 00:01.0.</param>
    private static byte[] PciRoot(byte[][] isaDevices)
    {
        bool chipset = isaDevices.Length != 0;
        byte[][] terms =
        [
            Aml.Name("_HID", Aml.EisaId("PNP0A03")),
            Aml.Name("_ADR", Aml.Integer(0)),
            Aml.Name("_UID", Aml.Integer(0)),
            Aml.Name("_PRT", RoutingTable(chipset)),
            Aml.Name("_CRS", RootResources()),
        ];
        return !chipset
            ? Aml.Device("PCI0", terms)
            : Aml.Device("PCI0", [.. terms, Aml.Device("ISA",
                [
                    Aml.Name("_ADR", Aml.Integer(0x0001_0000)),
                    // The PIIX3's PIRQ route registers, which the link devices read and write.
                    Aml.OperationRegion("P40C", Aml.PciConfigSpace, (ulong)Piix3IsaBridgeFunction.FirstPirqRoute, Piix3IsaBridgeFunction.PirqCount),
                    .. isaDevices,
                ])]);
    }

    /// <summary>
    /// What the root bridge decodes, as its <c>_CRS</c> says (Windows and Linux take the bridge's windows from here, and
    /// an OS that moves a BAR keeps it inside them): bus numbers 0–0xFF, the configuration ports 0xCF8–0xCFF as its
    /// own, the I/O ports either side of them, the legacy VGA window, and <see cref="MemoryLayout.PciWindowStart"/> up
    /// to the IOAPIC, the range the MMIO bus hands to the PCI window and where both SeaBIOS (top down from 0xFEC00000)
    /// and a direct boot (<see cref="PciDevices.PlaceBars"/>) put BARs. No 64-bit window: nothing decodes BARs above
    /// 4 GiB, and SeaBIOS goes there only when the 32-bit window overflows, which our few small BARs never make it.
    /// </summary>
    public static IReadOnlyList<RootWindow> RootWindows { get; } =
    [
        new(AddressSpaceKind.BusNumber, 0x00, 0xFF),
        new(AddressSpaceKind.Io, 0x0000, PciHostBridge.BasePort - 1),
        new(AddressSpaceKind.Io, ConfigPortsEnd + 1, 0xFFFF),
        new(AddressSpaceKind.Memory, VgaWindowStart, VgaWindowEnd),
        new(AddressSpaceKind.Memory, MemoryLayout.PciWindowStart, MemoryLayout.PciWindowEnd - 1),
    ];

    /// <summary>Legacy VGA memory, which the bridge forwards to the VGA function (QEMU's pc DSDT lists it too).</summary>
    private const uint VgaWindowStart = 0xA_0000, VgaWindowEnd = 0xB_FFFF;

    /// <summary>0xCF8–0xCFF belong to the host bridge itself; QEMU leaves 0xD00 onwards to the bus, as we do.</summary>
    private const ushort ConfigPortsEnd = 0xCFF;

    private static byte[] RootResources() => Aml.ResourceTemplate(
    [
        Aml.WordAddressSpace(AddressSpaceKind.BusNumber, 0x00, 0xFF),
        Aml.Io(PciHostBridge.BasePort, PciHostBridge.PortCount),
        .. RootWindows.Where(w => w.Kind != AddressSpaceKind.BusNumber).Select(w => w.Kind == AddressSpaceKind.Io
            ? Aml.WordAddressSpace(AddressSpaceKind.Io, (ushort)w.Min, (ushort)w.Max)
            // Legacy VGA memory is cacheable, the BAR window is not (as QEMU marks them).
            : Aml.DWordMemory(cacheable: w.Min == VgaWindowStart, (uint)w.Min, (uint)w.Max)),
    ]);

    /// <summary>
    /// The HPET (PNP0103) and its 1 KiB of registers, as QEMU's DSDT declares it; always present (a machine without one
    /// has no device here at all). Its interrupts need no resources: the OS programs the routes in the HPET itself.
    /// </summary>
    private static byte[] HpetDevice() => Aml.Device("HPET",
        Aml.Name("_HID", Aml.EisaId("PNP0103")),
        Aml.Name("_UID", Aml.Integer(0)),
        Aml.Name("_STA", Aml.Integer(0x0F)),
        Aml.Name("_CRS", Aml.ResourceTemplate(Aml.Memory32Fixed(writable: false, (uint)Hpet.BaseAddress, (uint)Hpet.Size))));

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
    /// the pin (0 = INTA), then either the link device of the PIRQ the pin is swizzled to (source index 0: the link's
    /// current IRQ, <see cref="PirqInterruptRouter"/>) or, without the PIIX3, no link and the GSI the pin is wired to
    /// (<see cref="PciInterruptWires"/>): 31 slots × 4 pins, within a Package's 255.
    /// </summary>
    private static byte[] RoutingTable(bool links)
    {
        var entries = new List<byte[]>();
        for (int slot = 1; slot < PciSlots; slot++)
        {
            for (int pin = 0; pin < PinsPerSlot; pin++)
            {
                // The PIIX4's power-management function (00:01.3) interrupts on INTA, which is the SCI: LNKS, not a PIRQ.
                string link = slot == PiixSlot && pin == 0 ? SciLink : LinkName(PirqInterruptRouter.Pirq(slot, pin + 1));
                entries.Add(Aml.Package(
                    Aml.Integer(((ulong)slot << 16) | 0xFFFF),
                    Aml.Integer((ulong)pin),
                    links ? Aml.NameString(link) : Aml.Integer(0),
                    Aml.Integer(links ? 0 : (ulong)PciInterruptWires.IoApicPin(slot, pin + 1))));
            }
        }

        return Aml.Package([.. entries]);
    }

    private static string LinkName(int pirq) => $"LNK{(char)('A' + pirq)}";

    /// <summary>The PIIX3/PIIX4's slot on a firmware machine, and the link of its power-management function's INTA.</summary>
    private const int PiixSlot = 1;
    private const string SciLink = "LNKS";

    /// <summary>
    /// LNKS, the SCI's link as QEMU's pc DSDT has it: the PM function's interrupt is the SCI, hard-wired to ISA IRQ
    /// <see cref="Piix4PowerManagement.SciIrq"/> (the FADT's SCI_INT), level-triggered and active high as the MADT's
    /// override says. It offers only that IRQ, is always present and enabled, and its _SRS and _DIS change nothing: the
    /// link exists so an OS that routes the function's INTA through _PRT lands on the SCI's IRQ with the right polarity.
    /// </summary>
    private static byte[] SciLinkDevice()
    {
        byte[] sci = Aml.ResourceTemplate(Aml.Interrupt(level: true, activeHigh: true, shared: true, Piix4PowerManagement.SciIrq));
        return Aml.Device(SciLink,
            Aml.Name("_HID", Aml.EisaId("PNP0C0F")),
            Aml.Name("_UID", Aml.Integer(PirqInterruptRouter.PirqCount)),
            Aml.Name("_PRS", sci),
            Aml.Method("_STA", 0, serialized: false, Aml.Return(Aml.Integer(0x0B))),
            Aml.Method("_DIS", 0, serialized: false),
            Aml.Method("_CRS", 0, serialized: false, Aml.Return(Aml.NameString("_PRS"))),
            Aml.Method("_SRS", 1, serialized: false));
    }

    /// <summary>
    /// The PCI interrupt links LNKA–LNKD (PNP0C0F), one per PIRQ, as QEMU's pc DSDT has them: each reads its route
    /// register through a field of the PIIX3's configuration space, reports it as a level, active-high, shared IRQ
    /// (<c>_CRS</c>), offers 5, 10 and 11 (<c>_PRS</c>), takes the OS's choice (<c>_SRS</c>) and can be turned off
    /// (<c>_DIS</c>, bit 7). An OS in PIC mode uses the IRQ on the 8259, one in APIC mode the IOAPIC pin of that number.
    /// </summary>
    private static byte[][] InterruptLinks()
    {
        byte[] Prq(int pirq) => Aml.NameString($"PRQ{pirq}");
        var terms = new List<byte[]>
        {
            Aml.Field("PCI0.ISA.P40C", Aml.ByteAccNoLockPreserve, [.. Enumerable.Range(0, PirqInterruptRouter.PirqCount).Select(p => ($"PRQ{p}", 8))]),
            // IQST: _STA of a link from its route register: present and enabled, or present and disabled (bit 7).
            Aml.Method("IQST", 1, serialized: false,
                Aml.If(Aml.And(Aml.Integer(Piix3IsaBridgeFunction.PirqDisabled), Aml.Arg(0)), Aml.Return(Aml.Integer(0x09))),
                Aml.Return(Aml.Integer(0x0B))),
            // IQCR: _CRS of a link, the route register's IRQ in an Interrupt descriptor.
            Aml.Method("IQCR", 1, serialized: true,
                Aml.Name("PRR0", Aml.ResourceTemplate(Aml.Interrupt(level: true, activeHigh: true, shared: true, 0))),
                Aml.CreateDWordField(Aml.NameString("PRR0"), 5, "PRRI"),
                Aml.And(Aml.Arg(0), Aml.Integer(0x0F), Aml.NameString("PRRI")),
                Aml.Return(Aml.NameString("PRR0"))),
        };
        for (int pirq = 0; pirq < PirqInterruptRouter.PirqCount; pirq++)
        {
            terms.Add(Aml.Device(LinkName(pirq),
                Aml.Name("_HID", Aml.EisaId("PNP0C0F")),
                Aml.Name("_UID", Aml.Integer((ulong)pirq)),
                Aml.Name("_PRS", Aml.ResourceTemplate(Aml.Interrupt(level: true, activeHigh: true, shared: true, 5, 10, 11))),
                Aml.Method("_STA", 0, serialized: false, Aml.Return(Aml.Call("IQST", Prq(pirq)))),
                Aml.Method("_DIS", 0, serialized: false, Aml.Or(Prq(pirq), Aml.Integer(Piix3IsaBridgeFunction.PirqDisabled), Prq(pirq))),
                Aml.Method("_CRS", 0, serialized: false, Aml.Return(Aml.Call("IQCR", Prq(pirq)))),
                Aml.Method("_SRS", 1, serialized: false,
                    Aml.CreateDWordField(Aml.Arg(0), 5, "PRRI"),
                    Aml.Store(Aml.NameString("PRRI"), Prq(pirq)))));
        }

        terms.Add(SciLinkDevice());
        return [.. terms];
    }
}

/// <summary>A range the PCI root bridge decodes: bus numbers, I/O ports or memory, inclusive.</summary>
internal readonly record struct RootWindow(AddressSpaceKind Kind, ulong Min, ulong Max)
{
    public bool Contains(ulong start, ulong length) => length != 0 && start >= Min && start - Min + length - 1 <= Max - Min;
}
