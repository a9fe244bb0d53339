using System.Buffers.Binary;
using System.Text;
using Platform.Devices.Firmware;
using Platform.Engine.Machine.Firmware.Acpi;
using Platform.Engine.Memory;

namespace Platform.Engine.Machine.Firmware;

/// <summary>
/// What the machine tells its BIOS through fw_cfg, as QEMU's pc machine does for SeaBIOS: the items SeaBIOS's QEMU
/// platform code reads (RAM size, vCPUs, NUMA, the boot menu, IRQ 0's override, no legacy ACPI or SMBIOS) and the files
/// <c>etc/e820</c> (the memory map SeaBIOS starts from), <c>bootorder</c> (the disks by PCI slot),
/// <c>etc/boot-menu-wait</c>, the SMBIOS tables (<see cref="SmbiosTables"/>), the ACPI tables through the linker/loader
/// (<see cref="AcpiTables"/>) and, with a display, the VGA BIOS.
/// </summary>
internal static class FirmwareConfig
{
    private const uint E820Ram = 1, E820Reserved = 2;
    private const int E820EntrySize = 20;

    /// <summary>
    /// SeaBIOS runs a file named for a PCI device's ids as that device's option ROM, handing it the device's address
    /// (<c>init_pcirom</c>), so the VGA BIOS finds the std-vga's BARs; see docs/architecture.md for why not a ROM BAR.
    /// </summary>
    public const string StdVgaRomFile = "pci1234,1111.rom";

    /// <param name="ram">Guest RAM as mapped: below the PCI hole, then above 4 GiB.</param>
    /// <param name="bootPaths">The boot devices as Open Firmware paths, first to boot first (<see cref="VirtioDiskPath"/>,
    /// <see cref="AhciDrivePath"/>).</param>
    /// <param name="processorId">CPUID leaf 1's EAX and EDX, for SMBIOS's processor structures.</param>
    /// <param name="vgaBios">The std-vga's option ROM, or null without a display.</param>
    /// <param name="acpiPlatform">What the ACPI tables describe, asked when the firmware first reads one of the ACPI files
    /// (after it has programmed the PM block); null: no ACPI tables.</param>
    public static FwCfgContents Build(MachineConfig config, IReadOnlyList<MemoryRegion> ram, IReadOnlyList<string> bootPaths, ulong processorId = 0,
        byte[]? vgaBios = null, Func<AcpiPlatform>? acpiPlatform = null)
    {
        var contents = new FwCfgContents()
            .AddItem(FwCfgKeys.RamSize, config.MemoryBytes)
            .AddItem(FwCfgKeys.CpuCount, (ushort)config.CpuCount)
            .AddItem(FwCfgKeys.MaxCpus, (ushort)config.CpuCount)
            // No display: SeaBIOS then writes its screen to COM1 too (its serial console), as with QEMU's -nographic.
            .AddItem(FwCfgKeys.NoGraphic, (ushort)(config.Display == DisplayKind.None ? 1 : 0))
            .AddItem(FwCfgKeys.BootMenu, (ushort)0) // no menu, so no wait for a key before booting
            .AddItem(FwCfgKeys.Uuid, new byte[16])
            .AddItem(FwCfgKeys.Numa, new byte[8 * (1 + config.CpuCount)]) // no NUMA nodes
            .AddItem(FwCfgKeys.Irq0Override, 1u) // ISA IRQ 0 reaches IOAPIC pin 2 (GsiRouting)
            .AddItem(FwCfgKeys.AcpiTables, (ushort)0)
            .AddItem(FwCfgKeys.SmbiosEntries, (ushort)0)
            .AddItem(FwCfgKeys.E820Table, 0u);
        contents.AddFile("etc/e820", E820(ram));
        contents.AddFile("etc/boot-menu-wait", [0, 0]);
        ulong below4G = ram.Where(r => r.GuestAddress < MemoryLayout.FourGiB).Aggregate(0UL, (sum, r) => sum + r.Size);
        var (tables, anchor) = SmbiosTables.Build(below4G, config.MemoryBytes - below4G, config.CpuCount, processorId);
        contents.AddFile("etc/smbios/smbios-tables", tables);
        contents.AddFile("etc/smbios/smbios-anchor", anchor);
        if (bootPaths.Count > 0)
        {
            contents.AddFile("bootorder", BootOrder(bootPaths));
        }

        if (vgaBios is not null)
        {
            contents.AddFile(StdVgaRomFile, vgaBios);
        }

        if (acpiPlatform is not null)
        {
            AddAcpiFiles(contents, config.CpuCount, config.HasHpet, acpiPlatform);
        }

        return contents;
    }

    /// <summary>
    /// The linker/loader's three files, made together from one look at the platform when the first is read. Their lengths
    /// do not depend on what is looked at (only addresses inside change), so a build now gives the directory's lengths.
    /// </summary>
    private static void AddAcpiFiles(FwCfgContents contents, int cpuCount, bool hpet, Func<AcpiPlatform> platform)
    {
        var sizes = AcpiTables.Build(new AcpiPlatform(cpuCount, 0, Hpet: hpet));
        var files = new Lazy<AcpiFiles>(() => AcpiTables.Build(platform()), LazyThreadSafetyMode.ExecutionAndPublication);
        contents.AddGeneratedFile(AcpiFiles.TablesFile, sizes.Tables.Length, () => files.Value.Tables);
        contents.AddGeneratedFile(AcpiFiles.RsdpFile, sizes.Rsdp.Length, () => files.Value.Rsdp);
        contents.AddGeneratedFile(AcpiFiles.LoaderFile, sizes.Loader.Length, () => files.Value.Loader);
    }

    /// <summary>
    /// RAM as mapped, and KVM's real-mode TSS and identity-map pages reserved. The rest (the EBDA, the BIOS area, the
    /// flash) SeaBIOS reserves itself, as it does under QEMU.
    /// </summary>
    public static byte[] E820(IReadOnlyList<MemoryRegion> ram)
    {
        var entries = ram.Select(r => (r.GuestAddress, r.Size, E820Ram)).ToList();
        entries.Add((MemoryLayout.KvmIdentityMap, MemoryLayout.KvmTss + (3 * 4096) - MemoryLayout.KvmIdentityMap, E820Reserved));
        byte[] table = new byte[entries.Count * E820EntrySize];
        for (int i = 0; i < entries.Count; i++)
        {
            var entry = table.AsSpan(i * E820EntrySize, E820EntrySize);
            BinaryPrimitives.WriteUInt64LittleEndian(entry, entries[i].GuestAddress);
            BinaryPrimitives.WriteUInt64LittleEndian(entry[8..], entries[i].Size);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[16..], entries[i].Item3);
        }

        return table;
    }

    /// <summary>
    /// Open Firmware paths, one a line, first to boot first; the string ends with a NUL, as QEMU's does. SeaBIOS gives
    /// each device it finds the priority of the first line its own glob matches the beginning of.
    /// </summary>
    public static byte[] BootOrder(IReadOnlyList<string> paths) => Encoding.ASCII.GetBytes(string.Join('\n', paths) + '\0');

    /// <summary>A virtio-blk disk, as QEMU writes it ("/pci@i0cf8/scsi@2/disk@0,0"); SeaBIOS matches "/pci@i0cf8/*@2".</summary>
    public static string VirtioDiskPath(int slot) => $"/pci@i0cf8/scsi@{slot:x}/disk@0,0";

    /// <summary>
    /// A drive on an AHCI port: SeaBIOS's <c>bootprio_find_ata_device</c> looks for "/pci@i0cf8/*@SLOT/drive@PORT/disk@0"
    /// (the port as the channel, never a slave), so the controller's name before '@' is free; QEMU's own is longer.
    /// </summary>
    public static string AhciDrivePath(int slot, int port) => $"/pci@i0cf8/sata@{slot:x}/drive@{port:x}/disk@0";
}
