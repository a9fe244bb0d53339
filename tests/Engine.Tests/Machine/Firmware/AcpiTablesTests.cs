using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Platform.Devices.Firmware;
using Platform.Engine.Machine;
using Platform.Engine.Machine.Firmware.Acpi;

namespace Platform.Engine.Tests.Machine.Firmware;

// Our ACPI tables after the linker/loader script has run as SeaBIOS runs it (files placed at addresses of our choosing,
// pointers added, checksums fixed), read back field by field and disassembled by ACPICA's iasl.
public sealed class AcpiTablesTests
{
    private const ulong TablesAt = 0x07FE_0000, RsdpAt = 0x000F_5A40;

    [Fact]
    public void The_loader_script_allocates_links_and_checksums_every_table_from_an_RSDP_in_the_F_segment()
    {
        var files = AcpiTables.Build(new AcpiPlatform(4, 0x600));
        var memory = Load(files);

        byte[] rsdp = memory[RsdpAt];
        Encoding.ASCII.GetString(rsdp, 0, 8).Should().Be("RSD PTR ");
        Sum(rsdp.AsSpan(0, 20)).Should().Be(0);
        Sum(rsdp).Should().Be(0, "the extended checksum covers all 36 bytes");
        rsdp[15].Should().Be(2);
        ulong rsdt = BinaryPrimitives.ReadUInt32LittleEndian(rsdp.AsSpan(16));
        ulong xsdt = BinaryPrimitives.ReadUInt64LittleEndian(rsdp.AsSpan(24));
        var tables = memory[TablesAt];
        string Signature(ulong address) => Encoding.ASCII.GetString(tables, (int)(address - TablesAt), 4);
        Signature(rsdt).Should().Be("RSDT");
        Signature(xsdt).Should().Be("XSDT");

        var listed = Entries(tables, rsdt, 4);
        Entries(tables, xsdt, 8).Should().Equal(listed);
        listed.Select(Signature).Should().Equal("FACP", "APIC");
        foreach (ulong table in listed.Append(rsdt).Append(xsdt))
        {
            int at = (int)(table - TablesAt);
            Sum(tables.AsSpan(at, BinaryPrimitives.ReadInt32LittleEndian(tables.AsSpan(at + 4)))).Should().Be(0, Signature(table));
        }

        var fadt = tables.AsSpan((int)(listed[0] - TablesAt));
        ulong facs = BinaryPrimitives.ReadUInt32LittleEndian(fadt[36..]);
        ulong dsdt = BinaryPrimitives.ReadUInt32LittleEndian(fadt[40..]);
        BinaryPrimitives.ReadUInt64LittleEndian(fadt[132..]).Should().Be(facs);
        BinaryPrimitives.ReadUInt64LittleEndian(fadt[140..]).Should().Be(dsdt);
        Signature(facs).Should().Be("FACS");
        (facs % 64).Should().Be(0, "the FACS must be 64-byte aligned");
        Signature(dsdt).Should().Be("DSDT");
        int dsdtAt = (int)(dsdt - TablesAt);
        Sum(tables.AsSpan(dsdtAt, BinaryPrimitives.ReadInt32LittleEndian(tables.AsSpan(dsdtAt + 4)))).Should().Be(0);
    }

    [Fact]
    public void The_FADT_points_at_the_PM_block_where_it_was_programmed()
    {
        var files = AcpiTables.Build(new AcpiPlatform(1, 0xB000));
        var tables = Load(files)[TablesAt];
        int fadt = Find(tables, "FACP");
        var f = tables.AsSpan(fadt);

        BinaryPrimitives.ReadUInt16LittleEndian(f[46..]).Should().Be(9, "SCI_INT");
        BinaryPrimitives.ReadUInt32LittleEndian(f[48..]).Should().Be(0xB2u, "SMI_CMD is the APM control port");
        f[52].Should().Be(0xF1);
        f[53].Should().Be(0xF0);
        BinaryPrimitives.ReadUInt32LittleEndian(f[56..]).Should().Be(0xB000u);
        BinaryPrimitives.ReadUInt32LittleEndian(f[64..]).Should().Be(0xB004u);
        BinaryPrimitives.ReadUInt32LittleEndian(f[76..]).Should().Be(0xB008u);
        BinaryPrimitives.ReadUInt32LittleEndian(f[80..]).Should().Be(0xAFE0u);
        (BinaryPrimitives.ReadUInt32LittleEndian(f[112..]) & (1 << 4)).Should().Be(0, "the power button is the fixed-feature one");
        BinaryPrimitives.ReadUInt64LittleEndian(f[(172 + 4)..]).Should().Be(0xB004ul, "X_PM1a_CNT_BLK agrees");
        BinaryPrimitives.ReadUInt64LittleEndian(f[(116 + 4)..]).Should().Be(0xCF9ul, "the reset register");
        f[128].Should().Be(6);
    }

    [Fact]
    public void The_MADT_has_a_local_APIC_per_vCPU_the_IOAPIC_and_the_IRQ_0_and_SCI_overrides()
    {
        var tables = Load(AcpiTables.Build(new AcpiPlatform(3, 0x600)))[TablesAt];
        int madt = Find(tables, "APIC");
        int length = BinaryPrimitives.ReadInt32LittleEndian(tables.AsSpan(madt + 4));
        var entries = new List<byte[]>();
        for (int at = madt + 44; at < madt + length; at += tables[at + 1])
        {
            entries.Add(tables.AsSpan(at, tables[at + 1]).ToArray());
        }

        entries.Where(e => e[0] == 0).Select(e => (e[2], e[3], e[4])).Should().Equal(((byte)0, (byte)0, (byte)1), ((byte)1, (byte)1, (byte)1), ((byte)2, (byte)2, (byte)1));
        var ioapic = entries.Single(e => e[0] == 1);
        ioapic[2].Should().Be(0, "KVM's IOAPIC has ID 0 after reset, and SeaBIOS's MP table says so too");
        BinaryPrimitives.ReadUInt32LittleEndian(ioapic.AsSpan(4)).Should().Be(0xFEC0_0000u);
        entries.Where(e => e[0] == 2).Select(e => (e[3], BinaryPrimitives.ReadUInt32LittleEndian(e.AsSpan(4)), BinaryPrimitives.ReadUInt16LittleEndian(e.AsSpan(8))))
            .Should().Equal(((byte)0, 2u, (ushort)0), ((byte)9, 9u, (ushort)0xD));
    }

    [Fact]
    public void iasl_disassembles_every_table_without_errors_and_finds_the_DSDTs_objects()
    {
        var files = AcpiTables.Build(new AcpiPlatform(2, 0x600));
        var tables = Load(files)[TablesAt];
        string dir = Directory.CreateTempSubdirectory("acpi-").FullName;
        try
        {
            var dsl = Disassemble(tables, dir, "DSDT", "FACP", "APIC", "RSDT", "XSDT", "FACS");

            dsl["DSDT"].Should().Contain("Device (PCI0)").And.Contain("EisaId (\"PNP0A03\")").And.Contain("EisaId (\"PNP0303\")")
                .And.Contain("EisaId (\"PNP0501\")").And.Contain("Name (_S5, Package (0x04)").And.Contain("Name (_PRT, Package (0x7C)")
                .And.Contain("Device (C001)").And.Contain("\"ACPI0007\"").And.Contain("IO (Decode16,")
                .And.Contain("OperationRegion (P40C, PCI_Config, 0x60, 0x04)").And.Contain("Device (LNKD)").And.Contain("EisaId (\"PNP0C0F\")")
                .And.Contain("Interrupt (ResourceConsumer, Level, ActiveHigh, Shared, ,, )").And.Contain("Method (_SRS, 1")
                .And.Contain("0x0001FFFF, \n                    Zero, \n                    LNKS,")
                .And.Contain("0x0001FFFF, \n                    One, \n                    LNKB,")
                .And.Contain("0x0002FFFF, \n                    Zero, \n                    LNKB,").And.Contain("Device (LNKS)")
                .And.Contain("WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,")
                .And.Contain("WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,")
                .And.Contain("DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,")
                .And.Contain("0xFEBFFFFF");
            dsl["FACP"].Should().Contain("PM1A Control Block Address : 00000604")
                .And.Contain("SCI Interrupt : 0009").And.Contain("Control Method Power Button (V1) : 0");
            dsl["APIC"].Should().Contain("Local Apic ID : 01").And.Contain("Interrupt : 00000009");

            DsdtRecompilesToTheSameAml(dir);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ACPICAs_interpreter_runs_the_link_devices_methods_against_the_PIIX3s_route_registers()
    {
        // acpiexec backs the PCI_Config region with its own memory (zeros at first), so the methods' effect on the route
        // registers is seen only through the link's own _STA/_CRS, as an OS sees it.
        var tables = Load(AcpiTables.Build(new AcpiPlatform(1, 0x600)))[TablesAt];
        string[] steps =
        [
            "evaluate \\_SB.LNKB._STA", "evaluate \\_SB.LNKB._SRS (89 06 00 09 01 0B 00 00 00 79 00)", "evaluate \\_SB.LNKB._CRS",
            "evaluate \\_SB.LNKB._DIS", "evaluate \\_SB.LNKB._STA", "evaluate \\_SB.LNKA._CRS",
        ];
        var (code, output) = AcpiExec(tables, steps);

        code.Should().Be(0, output);
        output.Should().NotContain("AE_", "every method ran without an AML error:\n" + output);
        // In order: enabled (bit 7 clear) → the IRQ _SRS wrote, as a level/high/shared Interrupt → disabled by _DIS →
        // LNKA, untouched, still reads its own register (0).
        Results(output).Should().Equal(
            "[Integer] = 000000000000000B",
            "[Buffer] Length 0B =     0000: 89 06 00 09 01 0B 00 00 00 79 00",
            "[Integer] = 0000000000000009",
            "[Buffer] Length 0B =     0000: 89 06 00 09 01 00 00 00 00 79 00");
    }

    [Fact]
    public void With_an_HPET_the_RSDT_lists_its_table_and_the_DSDT_declares_PNP0103_at_its_registers()
    {
        var tables = Load(AcpiTables.Build(new AcpiPlatform(1, 0x600, Hpet: true)))[TablesAt];
        var without = Load(AcpiTables.Build(new AcpiPlatform(1, 0x600)))[TablesAt];
        FluentActions.Invoking(() => Find(without, "HPET")).Should().Throw<InvalidOperationException>("without one there is no HPET table");
        string dir = Directory.CreateTempSubdirectory("acpi-").FullName;
        try
        {
            foreach (string signature in new[] { "HPET", "DSDT", "RSDT" })
            {
                Sum(Table(tables, signature)).Should().Be(0, signature);
            }

            var dsl = Disassemble(tables, dir, "HPET", "DSDT", "RSDT");

            BinaryPrimitives.ReadInt32LittleEndian(tables.AsSpan(Find(tables, "HPET") + 4)).Should().Be(56);
            dsl["HPET"].Should().Contain("Hardware Block ID : 8086A201").And.Contain("Address : 00000000FED00000")
                .And.Contain("Space ID : 00 [SystemMemory]").And.Contain("Sequence Number : 00");
            dsl["RSDT"].Should().Contain("ACPI Table Address   2");
            dsl["DSDT"].Should().Contain("Device (HPET)").And.Contain("EisaId (\"PNP0103\")")
                .And.Contain("Memory32Fixed (ReadOnly,\n                    0xFED00000,         // Address Base\n                    0x00000400,");
            DsdtRecompilesToTheSameAml(dir);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void LNKS_offers_and_holds_only_the_FADTs_SCI_IRQ_level_high_and_ignores_SRS_and_DIS()
    {
        var tables = Load(AcpiTables.Build(new AcpiPlatform(1, 0x600)))[TablesAt];
        string[] steps =
        [
            "evaluate \\_SB.LNKS._HID", "evaluate \\_SB.LNKS._STA", "evaluate \\_SB.LNKS._PRS",
            "evaluate \\_SB.LNKS._SRS (89 06 00 09 01 0B 00 00 00 79 00)", "evaluate \\_SB.LNKS._DIS",
            "evaluate \\_SB.LNKS._STA", "evaluate \\_SB.LNKS._CRS",
        ];
        var (code, output) = AcpiExec(tables, steps);

        code.Should().Be(0, output);
        output.Should().NotContain("AE_", output);
        byte sci = tables[Find(tables, "FACP") + 46];
        sci.Should().Be(9);
        string irq = $"89 06 00 09 01 {sci:X2} 00 00 00 79 00";
        Results(output).Should().Equal(
            "[Integer] = 000000000F0CD041", // PNP0C0F
            "[Integer] = 000000000000000B",
            $"[Buffer] Length 0B =     0000: {irq}",
            "[Integer] = 000000000000000B",
            $"[Buffer] Length 0B =     0000: {irq}");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ACPICAs_interpreter_reads_the_root_bridges_CRS_as_the_bus_range_config_ports_IO_windows_VGA_and_the_32_bit_hole(bool isaBridge)
    {
        var tables = Load(AcpiTables.Build(new AcpiPlatform(1, 0x600, isaBridge)))[TablesAt];
        var (code, output) = AcpiExec(tables, "evaluate \\_SB.PCI0._CRS");

        code.Should().Be(0, output);
        output.Should().NotContain("AE_", output);
        var resources = Descriptors(BufferBytes(output));
        resources.Should().Equal(
            ("bus", 0x00ul, 0xFFul),
            ("io-consumed", 0xCF8ul, 0xCFFul),
            ("io", 0x0000ul, 0x0CF7ul),
            ("io", 0x0D00ul, 0xFFFFul),
            ("memory", 0xA0000ul, 0xBFFFFul),
            ("memory", 0xE000_0000ul, 0xFEBF_FFFFul));
        // Nothing RAM, the IOAPIC, the local APIC or the BIOS hold lies in a memory window.
        foreach (var (kind, min, max) in resources.Where(r => r.Kind == "memory"))
        {
            (min >= 0xA0000 && max < 0xC0000 || min >= MemoryLayout.PciHoleStart && max < MemoryLayout.IoApic)
                .Should().BeTrue($"0x{min:x}-0x{max:x} stays clear of RAM, the APICs and the BIOS");
        }

        Dsdt.RootWindows.Select(w => (w.Min, w.Max)).Should().Equal(
            resources.Where(r => r.Kind != "io-consumed").Select(r => (r.Min, r.Max)), "the machine's own list is what the table says");
    }

    /// <summary>The bytes of the one <c>[Buffer]</c> acpiexec printed, across its hex dump lines.</summary>
    private static byte[] BufferBytes(string output)
    {
        var lines = output.Split('\n').SkipWhile(l => !l.Contains("[Buffer]", StringComparison.Ordinal)).ToList();
        lines.Should().NotBeEmpty(output);
        int length = int.Parse(Regex.Match(lines[0], @"Length ([0-9A-Fa-f]+)").Groups[1].Value, System.Globalization.NumberStyles.HexNumber);
        var bytes = new List<byte>();
        foreach (string line in lines)
        {
            var dump = Regex.Match(line, @"[0-9A-Fa-f]{4}:((?:\s[0-9A-Fa-f]{2})+)");
            if (!dump.Success)
            {
                // The dump starts on the line after the [Buffer] line and ends at the first line that is not one.
                if (bytes.Count > 0)
                {
                    break;
                }

                continue;
            }

            bytes.AddRange(dump.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(b => Convert.ToByte(b, 16)));
        }

        bytes.Count.Should().Be(length, output);
        return [.. bytes];
    }

    /// <summary>A resource template's descriptors as (kind, min, max), read as an OS reads them (ACPI 6.x, 6.4).</summary>
    private static List<(string Kind, ulong Min, ulong Max)> Descriptors(byte[] template)
    {
        var list = new List<(string, ulong, ulong)>();
        for (int at = 0; at < template.Length;)
        {
            byte tag = template[at];
            if ((tag & 0x80) == 0)
            {
                int length = tag & 7;
                switch (tag >> 3)
                {
                    case 0x0F:
                        return list;
                    case 0x08:
                        ushort port = BinaryPrimitives.ReadUInt16LittleEndian(template.AsSpan(at + 2));
                        list.Add(("io-consumed", port, port + (ulong)template[at + 7] - 1));
                        break;
                    default:
                        throw new InvalidOperationException($"Unexpected small descriptor 0x{tag:x2}.");
                }

                at += 1 + length;
                continue;
            }

            int size = BinaryPrimitives.ReadUInt16LittleEndian(template.AsSpan(at + 1));
            var body = template.AsSpan(at + 3, size);
            string kind = body[0] switch { 0 => "memory", 1 => "io", 2 => "bus", _ => "?" };
            (body[1] & 1).Should().Be(0, "the bridge produces its windows");
            switch (tag)
            {
                case 0x88:
                    list.Add((kind, BinaryPrimitives.ReadUInt16LittleEndian(body[5..]), BinaryPrimitives.ReadUInt16LittleEndian(body[7..])));
                    (BinaryPrimitives.ReadUInt16LittleEndian(body[11..]) - 1).Should().Be(BinaryPrimitives.ReadUInt16LittleEndian(body[7..]) - BinaryPrimitives.ReadUInt16LittleEndian(body[5..]), "length = max - min + 1");
                    break;
                case 0x87:
                    list.Add((kind, BinaryPrimitives.ReadUInt32LittleEndian(body[7..]), BinaryPrimitives.ReadUInt32LittleEndian(body[11..])));
                    ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(body[19..]) - 1).Should().Be(BinaryPrimitives.ReadUInt32LittleEndian(body[11..]) - (ulong)BinaryPrimitives.ReadUInt32LittleEndian(body[7..]));
                    break;
                default:
                    throw new InvalidOperationException($"Unexpected large descriptor 0x{tag:x2}.");
            }

            at += 3 + size;
        }

        throw new InvalidOperationException("The resource template has no end tag.");
    }

    [Fact]
    public void The_direct_boot_linker_gives_the_bytes_the_firmware_loader_gives_at_the_same_addresses()
    {
        var files = AcpiTables.Build(new AcpiPlatform(2, 0x600, IsaBridge: false));
        var expected = Load(files);

        var linked = AcpiLinker.Link(files, new Dictionary<string, ulong> { [AcpiFiles.TablesFile] = TablesAt, [AcpiFiles.RsdpFile] = RsdpAt });

        linked[AcpiFiles.TablesFile].Should().Equal(expected[TablesAt]);
        linked[AcpiFiles.RsdpFile].Should().Equal(expected[RsdpAt]);
        files.Tables.Should().NotEqual(expected[TablesAt], "the inputs were copied, not linked in place");
    }

    [Fact]
    public void The_direct_boot_linker_refuses_an_address_that_breaks_a_files_alignment()
    {
        var files = AcpiTables.Build(new AcpiPlatform(1, 0x600, IsaBridge: false));

        var act = () => AcpiLinker.Link(files, new Dictionary<string, ulong> { [AcpiFiles.TablesFile] = TablesAt + 16, [AcpiFiles.RsdpFile] = RsdpAt });

        act.Should().Throw<InvalidOperationException>().WithMessage("*64-byte alignment*", "the FACS opens the tables and must be 64-byte aligned");
    }

    [Fact]
    public void A_direct_boots_DSDT_puts_the_ISA_devices_under_SB_since_slot_1_holds_no_PIIX3()
    {
        var tables = Load(AcpiTables.Build(new AcpiPlatform(2, 0x600, IsaBridge: false)))[TablesAt];
        string dir = Directory.CreateTempSubdirectory("acpi-").FullName;
        try
        {
            string dsl = Disassemble(tables, dir, "DSDT")["DSDT"];

            dsl.Should().NotContain("Device (ISA)").And.NotContain("0x00010000", "nothing claims 00:01.0, an ordinary device on a direct boot")
                .And.Contain("Device (PCI0)").And.Contain("Name (_PRT, Package (0x7C)")
                .And.Contain("Device (KBD)").And.Contain("EisaId (\"PNP0303\")").And.Contain("Device (COM1)").And.Contain("Device (RTC)")
                .And.Contain("Name (_S5, Package (0x04)");
            DsdtRecompilesToTheSameAml(dir);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Runs the script as SeaBIOS's romfile loader does, with the tables at <see cref="TablesAt"/> and the RSDP at <see cref="RsdpAt"/>.</summary>
    private static Dictionary<ulong, byte[]> Load(AcpiFiles files)
    {
        var byName = new Dictionary<string, (byte[] Data, ulong Address)>
        {
            [AcpiFiles.TablesFile] = ((byte[])files.Tables.Clone(), TablesAt),
            [AcpiFiles.RsdpFile] = ((byte[])files.Rsdp.Clone(), RsdpAt),
        };
        var allocated = new HashSet<string>();
        files.Loader.Length.Should().Be(files.Loader.Length / TableLoaderCommands.CommandSize * TableLoaderCommands.CommandSize);
        for (int at = 0; at < files.Loader.Length; at += TableLoaderCommands.CommandSize)
        {
            byte[] c = files.Loader.AsSpan(at, TableLoaderCommands.CommandSize).ToArray();
            string Name(int offset) => Encoding.ASCII.GetString(c, offset, TableLoaderCommands.FileNameSize).TrimEnd('\0');
            switch (BinaryPrimitives.ReadUInt32LittleEndian(c))
            {
                case TableLoaderCommands.Allocate:
                    allocated.Add(Name(4)).Should().BeTrue();
                    uint align = BinaryPrimitives.ReadUInt32LittleEndian(c.AsSpan(60));
                    (byName[Name(4)].Address % align).Should().Be(0);
                    c[64].Should().Be(Name(4) == AcpiFiles.RsdpFile ? (byte)2 : (byte)1);
                    break;
                case TableLoaderCommands.AddPointer:
                {
                    var dest = byName[Name(4)];
                    var source = byName[Name(60)];
                    allocated.Should().Contain([Name(4), Name(60)]);
                    int offset = (int)BinaryPrimitives.ReadUInt32LittleEndian(c.AsSpan(116));
                    int size = c[120];
                    Span<byte> value = stackalloc byte[8];
                    value.Clear();
                    dest.Data.AsSpan(offset, size).CopyTo(value);
                    ulong pointer = BinaryPrimitives.ReadUInt64LittleEndian(value) + source.Address;
                    BinaryPrimitives.WriteUInt64LittleEndian(value, pointer);
                    value[..size].CopyTo(dest.Data.AsSpan(offset));
                    break;
                }

                case TableLoaderCommands.AddChecksum:
                {
                    var file = byName[Name(4)].Data;
                    allocated.Should().Contain(Name(4));
                    int offset = (int)BinaryPrimitives.ReadUInt32LittleEndian(c.AsSpan(60));
                    int start = (int)BinaryPrimitives.ReadUInt32LittleEndian(c.AsSpan(64));
                    int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(c.AsSpan(68));
                    file[offset] -= Sum(file.AsSpan(start, length));
                    break;
                }

                default:
                    throw new InvalidOperationException($"Unknown loader command at {at}.");
            }
        }

        return byName.Values.ToDictionary(v => v.Address, v => v.Data);
    }

    private static int Find(byte[] tables, string signature)
    {
        for (int at = 0; at + 8 <= tables.Length;)
        {
            int length = BinaryPrimitives.ReadInt32LittleEndian(tables.AsSpan(at + 4));
            if (Encoding.ASCII.GetString(tables, at, 4) == signature)
            {
                return at;
            }

            at += length;
        }

        throw new InvalidOperationException($"No {signature} in the tables file.");
    }

    private static List<ulong> Entries(byte[] tables, ulong table, int size)
    {
        int at = (int)(table - TablesAt);
        int length = BinaryPrimitives.ReadInt32LittleEndian(tables.AsSpan(at + 4));
        return [.. Enumerable.Range(0, (length - 36) / size)
            .Select(i => size == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(tables.AsSpan(at + 36 + (4 * i))) : BinaryPrimitives.ReadUInt64LittleEndian(tables.AsSpan(at + 36 + (8 * i))))];
    }

    private static byte Sum(ReadOnlySpan<byte> bytes)
    {
        byte sum = 0;
        foreach (byte b in bytes)
        {
            sum += b;
        }

        return sum;
    }

    /// <summary>The table with <paramref name="signature"/>, its length read from its header.</summary>
    private static byte[] Table(byte[] tables, string signature)
    {
        int at = Find(tables, signature);
        return tables.AsSpan(at, BinaryPrimitives.ReadInt32LittleEndian(tables.AsSpan(at + 4))).ToArray();
    }

    /// <summary>
    /// Each table written to <c>SIGNATURE.dat</c> in <paramref name="dir"/> and disassembled by <c>iasl -d</c>, which
    /// must say nothing is wrong; the disassemblies by signature.
    /// </summary>
    private static Dictionary<string, string> Disassemble(byte[] tables, string dir, params string[] signatures)
    {
        var dsl = new Dictionary<string, string>();
        foreach (string signature in signatures)
        {
            string file = Path.Combine(dir, signature.ToLowerInvariant() + ".dat");
            File.WriteAllBytes(file, Table(tables, signature));
            var (code, output) = Iasl(dir, "-d", file);
            code.Should().Be(0, $"iasl -d {signature} said:\n{output}");
            output.Should().NotContainAny(["Error", "Warning", "Invalid", "Incorrect checksum"]);
            dsl[signature] = File.ReadAllText(Path.ChangeExtension(file, ".dsl"));
        }

        return dsl;
    }

    /// <summary>The DSDT's disassembly (<see cref="Disassemble"/>) compiles back to the same AML: nothing in it was guessed.</summary>
    private static void DsdtRecompilesToTheSameAml(string dir)
    {
        var (recompiled, compileOutput) = Iasl(dir, "-p", Path.Combine(dir, "again"), Path.Combine(dir, "dsdt.dsl"));
        recompiled.Should().Be(0, compileOutput);
        File.ReadAllBytes(Path.Combine(dir, "again.aml")).AsSpan(36).ToArray().Should().Equal(File.ReadAllBytes(Path.Combine(dir, "dsdt.dat")).AsSpan(36).ToArray());
    }

    /// <summary>ACPICA's acpiexec running <paramref name="steps"/> in batch mode against the DSDT of <paramref name="tables"/>.</summary>
    private static (int Code, string Output) AcpiExec(byte[] tables, params string[] steps)
    {
        string dir = Directory.CreateTempSubdirectory("acpi-").FullName;
        try
        {
            string file = Path.Combine(dir, "dsdt.aml");
            File.WriteAllBytes(file, Table(tables, "DSDT"));
            return Run("acpiexec", dir, "-b", string.Join(";", steps), file);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The results acpiexec printed (<c>[Integer] = …</c>, <c>[Buffer] …</c>), in order, their comments cut.</summary>
    private static string[] Results(string output) =>
        [.. output.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith('[')).Select(l => Regex.Replace(l, @"\s+//.*$", ""))];

    private static (int Code, string Output) Iasl(string workingDirectory, params string[] arguments) =>
        Run("iasl", workingDirectory, arguments);

    private static (int Code, string Output) Run(string program, string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"{program} is missing: install Debian's acpica-tools (./platform test does).", ex);
        }

        using (process)
        {
            string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output);
        }
    }
}
