using System.Buffers.Binary;
using System.Text;
using Platform.Devices.Firmware;
using Platform.Devices.Legacy;
using Platform.Devices.Pci;

namespace Platform.Engine.Machine.Firmware.Acpi;

/// <summary>What the ACPI tables describe: the vCPUs, where the PIIX4's PM I/O block decodes, whether the PIIX3 sits at
/// 00:01.0 to hold the ISA devices (a firmware machine) or not (a direct boot, whose slot 1 is an ordinary device), and
/// whether the machine has an HPET (an HPET table and a PNP0103 device then).</summary>
internal sealed record AcpiPlatform(int CpuCount, ushort PmBase, bool IsaBridge = true, bool Hpet = false);

/// <summary>The three fw_cfg files of QEMU's linker/loader protocol: the tables, the RSDP, and the script that links them.</summary>
internal sealed record AcpiFiles(byte[] Tables, byte[] Rsdp, byte[] Loader)
{
    public const string TablesFile = "etc/acpi/tables", RsdpFile = "etc/acpi/rsdp", LoaderFile = "etc/table-loader";
}

/// <summary>
/// The machine's ACPI tables, as QEMU's pc machine hands them to SeaBIOS: the FACS, a DSDT (<see cref="Dsdt"/>), the FADT
/// pointing at the PIIX4's PM block (SCI 9, the APM port as SMI_CMD, the PM timer, GPE0, reset through 0xCF9), the MADT
/// (a local APIC per vCPU, the IOAPIC, IRQ 0 on pin 2 and the SCI level-triggered), an RSDT and an XSDT, and an ACPI 2.0
/// RSDP. Pointers hold offsets into <c>etc/acpi/tables</c> and checksums are 0 until the loader script fixes both where
/// the firmware placed the files.
/// </summary>
/// <remarks>Layouts from the ACPI 6.x specification, chapter 5; the FADT is revision 3 (ACPI 2.0's 244 bytes), which
/// every OS since 2000 reads and which carries the reset register.</remarks>
internal static class AcpiTables
{
    public const string OemId = "PLATFM", OemTableId = "PLATFMPC", CreatorId = "PLAT";

    private const int HeaderLength = 36, ChecksumOffset = 9;
    private const int FacsLength = 64, FacsAlignment = 64, RsdpLength = 36;
    private const int FadtLength = 244;
    private const uint LocalApicAddress = 0xFEE0_0000, IoApicAddress = 0xFEC0_0000;
    private const byte IoApicId = 0;
    private const byte ResetValue = 0x06; // PIIX reset control: system reset + reset CPU, as QEMU's FADT says

    public static AcpiFiles Build(AcpiPlatform platform)
    {
        var tables = new List<byte>();
        var loader = new TableLoaderCommands()
            .AllocateFile(AcpiFiles.TablesFile, FacsAlignment, TableLoaderCommands.Zone.High);
        var checksums = new List<(int Offset, int Length)>();
        var pointers = new List<(int Offset, byte Size)>();

        int facs = Append(tables, Facs());
        int dsdt = AppendTable(tables, checksums, "DSDT", 1, Dsdt.Build(platform.CpuCount, platform.IsaBridge, platform.Hpet));
        int fadt = AppendTable(tables, checksums, "FACP", 3, FadtBody(platform.PmBase, (uint)facs, (uint)dsdt));
        pointers.AddRange([(fadt + 36, 4), (fadt + 40, 4), (fadt + 132, 8), (fadt + 140, 8)]);
        int madt = AppendTable(tables, checksums, "APIC", 3, MadtBody(platform.CpuCount));

        int[] listed = platform.Hpet ? [fadt, madt, AppendTable(tables, checksums, "HPET", 1, HpetBody())] : [fadt, madt];
        int rsdt = AppendTable(tables, checksums, "RSDT", 1, Pointers(listed, 4));
        int xsdt = AppendTable(tables, checksums, "XSDT", 1, Pointers(listed, 8));
        for (int i = 0; i < listed.Length; i++)
        {
            pointers.Add((rsdt + HeaderLength + (4 * i), 4));
            pointers.Add((xsdt + HeaderLength + (8 * i), 8));
        }

        foreach (var (offset, size) in pointers)
        {
            loader.AddPointerTo(AcpiFiles.TablesFile, (uint)offset, AcpiFiles.TablesFile, size);
        }

        foreach (var (offset, length) in checksums)
        {
            loader.AddChecksumOf(AcpiFiles.TablesFile, (uint)(offset + ChecksumOffset), (uint)offset, (uint)length);
        }

        // The RSDP goes below 1 MiB, where an OS searches for it; its two checksums come after both pointers.
        loader.AllocateFile(AcpiFiles.RsdpFile, 16, TableLoaderCommands.Zone.FSegment)
            .AddPointerTo(AcpiFiles.RsdpFile, 16, AcpiFiles.TablesFile, 4)
            .AddPointerTo(AcpiFiles.RsdpFile, 24, AcpiFiles.TablesFile, 8)
            .AddChecksumOf(AcpiFiles.RsdpFile, 8, 0, 20)
            .AddChecksumOf(AcpiFiles.RsdpFile, 32, 0, RsdpLength);
        return new AcpiFiles([.. tables], Rsdp((uint)rsdt, (uint)xsdt), loader.ToArray());
    }

    /// <summary>The Firmware ACPI Control Structure: no checksum, 64-byte aligned, nothing for the OS but the global lock.</summary>
    private static byte[] Facs()
    {
        byte[] facs = new byte[FacsLength];
        Encoding.ASCII.GetBytes("FACS", facs);
        BinaryPrimitives.WriteUInt32LittleEndian(facs.AsSpan(4), FacsLength);
        facs[32] = 1; // version (ACPI 2.0 and later)
        return facs;
    }

    /// <summary>The FADT after its header: where the fixed hardware is and what the platform has.</summary>
    private static byte[] FadtBody(ushort pmBase, uint facs, uint dsdt)
    {
        byte[] b = new byte[FadtLength - HeaderLength];
        // Offsets below are the specification's, from the table's start.
        void U8(int at, byte v) => b[at - HeaderLength] = v;
        void U16(int at, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(at - HeaderLength), v);
        void U32(int at, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at - HeaderLength), v);
        void U64(int at, ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(at - HeaderLength), v);
        void Gas(int at, byte bits, byte accessSize, ulong port)
        {
            U8(at, 1); // system I/O space
            U8(at + 1, bits);
            U8(at + 3, accessSize);
            U64(at + 4, port);
        }

        uint pm1Event = (uint)(pmBase + Piix4PowerManagement.Pm1StatusOffset);
        uint pm1Control = (uint)(pmBase + Piix4PowerManagement.Pm1ControlOffset);
        uint pmTimer = (uint)(pmBase + Piix4PowerManagement.PmTimerOffset);
        U32(36, facs);
        U32(40, dsdt);
        U16(46, Piix4PowerManagement.SciIrq);
        U32(48, Piix4PowerManagement.ApmControlPort);
        U8(52, Piix4PowerManagement.AcpiEnableCommand);
        U8(53, Piix4PowerManagement.AcpiDisableCommand);
        U32(56, pm1Event);
        U32(64, pm1Control);
        U32(76, pmTimer);
        U32(80, Piix4PowerManagement.Gpe0Port);
        U8(88, 4); // PM1 event block: status + enable
        U8(89, 2);
        U8(91, 4);
        U8(92, Piix4PowerManagement.Gpe0Length);
        U16(96, 0x0FFF); // no C2 (latency over 100 µs)
        U16(98, 0x0FFF); // no C3 (over 1000 µs)
        U8(108, (byte)CmosRtc.CenturyRegister);
        U16(109, 0b11); // IA-PC boot architecture: legacy devices, an 8042
        // WBINVD works, C1 on every CPU, no sleep button (the power button is fixed hardware: bit 4 clear), the RTC wakes
        // from S4, the reset register is there, and the OS should prefer the platform clock.
        U32(112, (1u << 0) | (1u << 2) | (1u << 5) | (1u << 7) | (1u << 10) | (1u << 15));
        Gas(116, 8, 1, 0xCF9);
        U8(128, ResetValue);
        U64(132, facs);
        U64(140, dsdt);
        Gas(148, 32, 2, pm1Event);
        Gas(172, 16, 2, pm1Control);
        Gas(208, 32, 3, pmTimer);
        Gas(220, 8 * Piix4PowerManagement.Gpe0Length, 1, Piix4PowerManagement.Gpe0Port);
        return b;
    }

    /// <summary>The MADT after its header: the local APIC address, PC-AT compatibility (8259s present), then the entries.</summary>
    private static byte[] MadtBody(int cpuCount)
    {
        var body = new List<byte>();
        Add32(body, LocalApicAddress);
        Add32(body, 1); // PCAT_COMPAT
        for (int cpu = 0; cpu < cpuCount; cpu++)
        {
            body.AddRange([0, 8, (byte)cpu, (byte)cpu]); // processor local APIC: UID = APIC ID = index
            Add32(body, 1); // enabled
        }

        // IOAPIC ID 0: what KVM's IOAPIC holds after reset and what SeaBIOS's MP table and QEMU's MADT say.
        body.AddRange([1, 12, IoApicId, 0]);
        Add32(body, IoApicAddress);
        Add32(body, 0); // GSI base
        AddOverride(body, 0, 2, 0); // the PIT's IRQ 0 reaches IOAPIC pin 2, conforming polarity and trigger
        AddOverride(body, Piix4PowerManagement.SciIrq, Piix4PowerManagement.SciIrq, 0b1101); // SCI: level, active high
        body.AddRange([4, 6, 0xFF, 0, 0, 1]); // local APIC NMI on LINT1 of every processor
        return [.. body];
    }

    /// <summary>
    /// The HPET table after its header (IA-PC HPET 1.0a, 3.2.4), as QEMU's: the event timer block ID (the low half of the
    /// capabilities register), its registers' address in system memory, HPET number 0, no minimum periodic tick, no page
    /// protection.
    /// </summary>
    private static byte[] HpetBody()
    {
        byte[] b = new byte[56 - HeaderLength];
        BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)Hpet.Capabilities);
        b[4] = 0; // the base address: a generic address structure in system memory, no width or offset given
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), Hpet.BaseAddress);
        return b;
    }

    private static void AddOverride(List<byte> body, byte irq, uint gsi, ushort flags)
    {
        body.AddRange([2, 10, 0, irq]);
        Add32(body, gsi);
        body.AddRange([(byte)flags, (byte)(flags >> 8)]);
    }

    private static byte[] Pointers(int[] offsets, int size)
    {
        byte[] body = new byte[offsets.Length * size];
        for (int i = 0; i < offsets.Length; i++)
        {
            if (size == 4)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(i * 4), (uint)offsets[i]);
            }
            else
            {
                BinaryPrimitives.WriteUInt64LittleEndian(body.AsSpan(i * 8), (ulong)offsets[i]);
            }
        }

        return body;
    }

    /// <summary>The ACPI 2.0 RSDP: its RSDT and XSDT fields hold their offsets in the tables file until the loader adds its address.</summary>
    private static byte[] Rsdp(uint rsdt, uint xsdt)
    {
        byte[] rsdp = new byte[RsdpLength];
        Encoding.ASCII.GetBytes("RSD PTR ", rsdp);
        Encoding.ASCII.GetBytes(OemId, rsdp.AsSpan(9));
        rsdp[15] = 2;
        BinaryPrimitives.WriteUInt32LittleEndian(rsdp.AsSpan(16), rsdt);
        BinaryPrimitives.WriteUInt32LittleEndian(rsdp.AsSpan(20), RsdpLength);
        BinaryPrimitives.WriteUInt64LittleEndian(rsdp.AsSpan(24), xsdt);
        return rsdp;
    }

    private static int Append(List<byte> blob, byte[] bytes)
    {
        int offset = blob.Count;
        blob.AddRange(bytes);
        return offset;
    }

    /// <summary>Appends a table with its standard header (checksum left 0 for the loader) and notes its checksum's range.</summary>
    private static int AppendTable(List<byte> blob, List<(int, int)> checksums, string signature, byte revision, byte[] body)
    {
        byte[] header = new byte[HeaderLength];
        Encoding.ASCII.GetBytes(signature, header);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), (uint)(HeaderLength + body.Length));
        header[8] = revision;
        Encoding.ASCII.GetBytes(OemId, header.AsSpan(10));
        Encoding.ASCII.GetBytes(OemTableId, header.AsSpan(16));
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(24), 1);
        Encoding.ASCII.GetBytes(CreatorId, header.AsSpan(28));
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(32), 1);
        int offset = Append(blob, header);
        blob.AddRange(body);
        checksums.Add((offset, HeaderLength + body.Length));
        return offset;
    }

    private static void Add32(List<byte> body, uint value) =>
        body.AddRange([(byte)value, (byte)(value >> 8), (byte)(value >> 16), (byte)(value >> 24)]);
}
