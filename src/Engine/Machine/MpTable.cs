using System.Buffers.Binary;
using System.Text;

namespace Platform.Engine.Machine;

/// <summary>
/// An Intel MultiProcessor Specification 1.4 table: one processor entry per vCPU, the ISA bus, the IOAPIC and the
/// ISA interrupt assignments. Guests (Linux without ACPI, our SMP test guest) find the CPUs and IRQ routing here.
/// ISA IRQ 0 goes to IOAPIC pin 2, as on QEMU and real PCs, matching the GSI routing the machine installs.
/// PCI bus 0 is listed first (Linux matches an MP bus id to the PCI bus number), ISA second, as SeaBIOS lays them
/// out; each PCI function's INTx pin gets an I/O interrupt entry (level, active low) to its IOAPIC pin.
/// </summary>
public static class MpTable
{
    private const byte EntryProcessor = 0, EntryBus = 1, EntryIoApic = 2, EntryIoInterrupt = 3, EntryLocalInterrupt = 4;
    private const byte InterruptInt = 0, InterruptNmi = 1, InterruptExtInt = 3;
    private const byte LocalApicVersion = 0x14;
    private const byte IoApicVersion = 0x11;
    private const byte PciBusId = 0;
    private const byte IsaBusId = 1;
    /// <summary>I/O interrupt flags for PCI INTx: polarity active low (bits 1:0 = 11), level triggered (bits 3:2 = 11).</summary>
    private const byte PciInterruptFlags = 0x0F;
    private const int FloatingPointerSize = 16;
    private const int HeaderSize = 44;

    /// <summary>The IOAPIC's id: just past the LAPIC ids so no two APICs share one.</summary>
    public static byte IoApicId(int cpuCount) => (byte)cpuCount;

    /// <summary>The ISA IRQ → IOAPIC pin map (IRQ 0 → pin 2; IRQ 2 is the cascade and has no entry).</summary>
    public static int IsaIrqToIoApicPin(int irq) => irq == 0 ? 2 : irq;

    /// <summary>
    /// The floating pointer and table for <paramref name="cpuCount"/> CPUs, with an I/O interrupt entry for each of
    /// <paramref name="pciInterrupts"/>.
    /// </summary>
    public static byte[] Build(ulong address, int cpuCount, IReadOnlyList<PciInterruptRoute>? pciInterrupts = null)
    {
        if (cpuCount is < 1 or > 254)
        {
            throw new ArgumentOutOfRangeException(nameof(cpuCount), "The MP table holds 1 to 254 processors.");
        }

        var entries = new List<byte[]>();
        uint signature = 0x600; // family 6, as the CPUID we expose
        for (int cpu = 0; cpu < cpuCount; cpu++)
        {
            byte[] e = new byte[20];
            e[0] = EntryProcessor;
            e[1] = (byte)cpu;
            e[2] = LocalApicVersion;
            e[3] = (byte)(cpu == 0 ? 0b11 : 0b01); // enabled, and the bootstrap processor for cpu 0
            BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(4), signature);
            BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(8), 0x201); // FPU + APIC feature flags
            entries.Add(e);
        }

        entries.Add([EntryBus, PciBusId, .. "PCI   "u8]);
        entries.Add([EntryBus, IsaBusId, .. "ISA   "u8]);
        byte ioApicId = IoApicId(cpuCount);
        byte[] ioApic = [EntryIoApic, ioApicId, IoApicVersion, 1, 0, 0, 0, 0];
        BinaryPrimitives.WriteUInt32LittleEndian(ioApic.AsSpan(4), (uint)MemoryLayout.IoApic);
        entries.Add(ioApic);

        entries.Add(IoInterrupt(InterruptExtInt, 0, ioApicId, 0));
        for (int irq = 0; irq < 16; irq++)
        {
            if (irq != 2)
            {
                entries.Add(IoInterrupt(InterruptInt, irq, ioApicId, IsaIrqToIoApicPin(irq)));
            }
        }

        foreach (var route in pciInterrupts ?? [])
        {
            // Source bus IRQ for PCI: device number in bits 6:2, INTA..INTD as 0..3 in bits 1:0.
            byte source = (byte)((route.Device << 2) | (route.Pin - 1));
            entries.Add([EntryIoInterrupt, InterruptInt, PciInterruptFlags, 0, PciBusId, source, ioApicId, (byte)route.IoApicPin]);
        }

        entries.Add([EntryLocalInterrupt, InterruptExtInt, 0, 0, IsaBusId, 0, 0xFF, 0]);
        entries.Add([EntryLocalInterrupt, InterruptNmi, 0, 0, IsaBusId, 0, 0xFF, 1]);

        int tableLength = HeaderSize + entries.Sum(e => e.Length);
        byte[] result = new byte[FloatingPointerSize + tableLength];
        var fp = result.AsSpan(0, FloatingPointerSize);
        "_MP_"u8.CopyTo(fp);
        BinaryPrimitives.WriteUInt32LittleEndian(fp[4..], (uint)(address + FloatingPointerSize));
        fp[8] = 1; // length in 16-byte units
        fp[9] = 4; // spec revision 1.4
        fp[10] = Checksum(fp);

        var table = result.AsSpan(FloatingPointerSize);
        "PCMP"u8.CopyTo(table);
        BinaryPrimitives.WriteUInt16LittleEndian(table[4..], (ushort)tableLength);
        table[6] = 4;
        Encoding.ASCII.GetBytes("PLATFORM").CopyTo(table[8..]);
        Encoding.ASCII.GetBytes("PLATFORM-VMM").CopyTo(table[16..]);
        BinaryPrimitives.WriteUInt16LittleEndian(table[34..], (ushort)entries.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(table[36..], (uint)MemoryLayout.LocalApic);
        int offset = HeaderSize;
        foreach (byte[] e in entries)
        {
            e.CopyTo(table[offset..]);
            offset += e.Length;
        }

        table[7] = Checksum(table[..tableLength]);
        return result;
    }

    private static byte[] IoInterrupt(byte type, int sourceIrq, byte ioApicId, int pin) =>
        [EntryIoInterrupt, type, 0, 0, IsaBusId, (byte)sourceIrq, ioApicId, (byte)pin];

    /// <summary>The byte that makes the whole structure sum to zero (its own slot must still be zero).</summary>
    private static byte Checksum(ReadOnlySpan<byte> data)
    {
        byte sum = 0;
        foreach (byte b in data)
        {
            sum += b;
        }

        return (byte)-sum;
    }
}

/// <summary>PCI device <paramref name="Device"/>'s pin <paramref name="Pin"/> (1 = INTA … 4 = INTD) is wired to IOAPIC pin <paramref name="IoApicPin"/>.</summary>
public readonly record struct PciInterruptRoute(int Device, int Pin, int IoApicPin);
