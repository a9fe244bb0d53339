namespace Platform.Devices.Firmware;

/// <summary>
/// fw_cfg's numbered items, as QEMU numbers them and SeaBIOS reads them (QEMU's docs/specs/fw_cfg.rst). Numbered items
/// are little-endian; the file directory is big-endian. New contents are files, named in the directory, never new numbers.
/// </summary>
public static class FwCfgKeys
{
    /// <summary>"QEMU": how firmware knows the device is there.</summary>
    public const ushort Signature = 0x00;
    /// <summary>u32 feature bits: <see cref="IdTraditional"/> and <see cref="IdDma"/>.</summary>
    public const ushort Id = 0x01;
    public const ushort Uuid = 0x02;
    /// <summary>u64: guest RAM in bytes.</summary>
    public const ushort RamSize = 0x03;
    /// <summary>u16: 1 when the machine has no display (SeaBIOS then mirrors its screen to COM1).</summary>
    public const ushort NoGraphic = 0x04;
    /// <summary>u16: vCPUs present at boot.</summary>
    public const ushort CpuCount = 0x05;
    public const ushort MachineId = 0x06;
    /// <summary>u64 node count, then a u64 node per possible vCPU, then one u64 size per node.</summary>
    public const ushort Numa = 0x0D;
    /// <summary>u16: 1 shows the boot menu (and waits for a key).</summary>
    public const ushort BootMenu = 0x0E;
    /// <summary>u16: vCPUs there may ever be (SeaBIOS's <c>etc/max-cpus</c>).</summary>
    public const ushort MaxCpus = 0x0F;
    /// <summary>The file directory: a big-endian u32 count, then 64-byte entries (size, select, reserved, name).</summary>
    public const ushort FileDirectory = 0x19;
    /// <summary>Files are numbered from here, in name order.</summary>
    public const ushort FirstFile = 0x20;

    /// <summary>The x86 items: a bit that makes a second key space, not part of the number.</summary>
    public const ushort ArchLocal = 0x8000;
    /// <summary>u16 count of legacy ACPI tables (0: tables come from files).</summary>
    public const ushort AcpiTables = ArchLocal + 0;
    /// <summary>u16 count of legacy SMBIOS entries (0: the BIOS makes its own).</summary>
    public const ushort SmbiosEntries = ArchLocal + 1;
    /// <summary>u32 (SeaBIOS reads one byte): 1 when ISA IRQ 0 reaches IOAPIC pin 2, as the MADT's override says.</summary>
    public const ushort Irq0Override = ArchLocal + 2;
    /// <summary>The legacy e820 reservations: a u32 count, then 20-byte entries (superseded by <c>etc/e820</c>).</summary>
    public const ushort E820Table = ArchLocal + 3;

    /// <summary>Selector bit asking for write access (QEMU's FW_CFG_WRITE_CHANNEL); not part of the number.</summary>
    public const ushort WriteChannel = 0x4000;

    public const uint IdTraditional = 1;
    public const uint IdDma = 2;
}
