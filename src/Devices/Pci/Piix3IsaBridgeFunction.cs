namespace Platform.Devices.Pci;

/// <summary>
/// The PIIX3 PCI-to-ISA bridge at 00:01.0 (8086:7000, class 0x0601), as QEMU's pc machine has it: firmware finds the PC's
/// ISA side behind it and programs its PIRQ route control registers (0x60–0x63: which ISA IRQ each of PIRQA–D drives;
/// bit 7 set means none). SeaBIOS writes IRQs 10, 10, 11, 11 there and builds its tables from them.
/// </summary>
/// <remarks>
/// Registers 0x40–0xFF are storage the guest may write, with the chip's reset values where QEMU sets them (the PIRQ
/// routes disabled, the ISA clock and top-of-memory defaults). The routes are kept and readable by the engine
/// (<see cref="PirqRoute"/>), which hears of every write to them (<see cref="PirqRoutesChanged"/>) and steers PCI
/// INTx to the ISA IRQs they name; the ISA devices themselves (PIC, PIT, RTC, i8042, DMA page registers) are the machine's
/// own at their usual ports, and the ELCR (0x4D0/0x4D1) is the in-kernel PIC's.
/// </remarks>
public sealed class Piix3IsaBridgeFunction : PciFunction
{
    public const ushort DeviceId82371SB = 0x7000;
    public const uint IsaBridgeClass = 0x06_01_00;
    public const int FirstPirqRoute = 0x60, PirqCount = 4;
    public const byte PirqDisabled = 0x80;
    private const byte IrqMask = 0x0F;
    private const int DeviceSpecificStart = 0x40;

    /// <param name="multiFunction">Whether functions besides 0 follow in the slot (the PIIX4 power management at 01.3),
    /// which the header type says so firmware and OSes look for them.</param>
    public Piix3IsaBridgeFunction(bool multiFunction = false)
        : base(new PciConfigSpace(PciHostBridgeFunction.IntelVendorId, DeviceId82371SB, IsaBridgeClass), intx: null)
    {
        if (multiFunction)
        {
            Config.SetByte(PciRegisters.HeaderType, PciRegisters.HeaderTypeNormal | PciRegisters.HeaderTypeMultiFunction);
        }

        Config.SetWord(PciRegisters.SubsystemVendorId, I440fxHostBridgeFunction.QemuSubsystemVendor);
        Config.SetWord(PciRegisters.SubsystemId, I440fxHostBridgeFunction.QemuSubsystem);
        for (int register = DeviceSpecificStart; register < PciConfigSpace.Size; register++)
        {
            Config.MakeWritable(register, 1, 0xFF);
        }

        // Reset values as QEMU's piix3 sets them: ISA I/O recovery, X-bus chip select, PIRQs off, top of memory,
        // motherboard IRQ and DMA routes off, APIC base, SMI enables.
        ReadOnlySpan<(int Register, byte Value)> resets =
        [
            (0x4C, 0x4D), (0x4E, 0x03), (0x69, 0x02), (0x70, 0x80), (0x76, 0x0C), (0x77, 0x0C), (0x78, 0x02), (0xA0, 0x08),
            (0xA8, 0x0F),
        ];
        foreach (var (register, value) in resets)
        {
            Config.SetByte(register, value);
        }

        for (int i = 0; i < PirqCount; i++)
        {
            Config.SetByte(FirstPirqRoute + i, PirqDisabled);
        }
    }

    /// <summary>
    /// Called after the guest wrote any of the route registers, on its thread and under the configuration lock (reentrant,
    /// so <see cref="PirqRoute"/> may be read back): the engine re-routes lines that are asserted at that moment.
    /// </summary>
    public Action? PirqRoutesChanged { get; set; }

    /// <summary>The ISA IRQ PIRQ <paramref name="pirq"/> (0 = A) drives, or null while it is routed nowhere.</summary>
    public int? PirqRoute(int pirq)
    {
        Span<byte> route = stackalloc byte[1];
        ReadConfig(FirstPirqRoute + pirq, route);
        int irq = route[0] & IrqMask;
        // IRQs 0–2, 8 and 13 are reserved in the route registers: the chip routes nothing for them.
        return (route[0] & PirqDisabled) != 0 || irq is < 3 or 8 or 13 ? null : irq;
    }

    protected override void OnConfigWritten(int offset, int length)
    {
        if (Overlaps(offset, offset + length, FirstPirqRoute, PirqCount))
        {
            PirqRoutesChanged?.Invoke();
        }
    }

    protected override void OnBarRead(int barIndex, ulong offset, Span<byte> data) => data.Clear();

    protected override void OnBarWritten(int barIndex, ulong offset, ReadOnlySpan<byte> data)
    {
    }
}
