namespace Platform.Engine.Machine;

/// <summary>
/// Where things sit in guest physical memory. The low addresses follow Firecracker's x86-64 layout, which
/// Linux's boot protocol and our PVH test guests both accept; the PCI hole follows QEMU's pc machine.
/// </summary>
public static class MemoryLayout
{
    /// <summary>Boot GDT (bzImage path), with the IDT right after it.</summary>
    public const ulong BootGdt = 0x500;
    public const ulong BootIdt = 0x520;
    /// <summary>PVH <c>hvm_start_info</c>, then its module list and memory map.</summary>
    public const ulong PvhStartInfo = 0x6000;
    public const ulong PvhModuleList = 0x6040;
    public const ulong PvhMemoryMap = 0x6080;
    /// <summary>Linux zero page (<c>struct boot_params</c>).</summary>
    public const ulong ZeroPage = 0x7000;
    public const ulong BootStack = 0x8ff0;
    /// <summary>Identity page tables: PML4, PDPT, PD (first GiB with 2 MiB pages).</summary>
    public const ulong Pml4 = 0x9000;
    public const ulong Pdpt = 0xA000;
    public const ulong PageDirectory = 0xB000;
    public const ulong CommandLine = 0x20000;
    public const int CommandLineMax = 0x10000;
    /// <summary>The MP floating pointer and table sit in the last KiB of base memory, where guests search.</summary>
    public const ulong MpTable = 0x9FC00;
    /// <summary>End of usable base memory; 0x9FC00–0xFFFFF is EBDA, VGA and BIOS space.</summary>
    public const ulong BaseMemoryEnd = 0x9FC00;
    /// <summary>
    /// A direct boot's ACPI tables: the RSDP at the start of the 0xE0000–0xFFFFF range that Linux and other OSes scan
    /// (where Firecracker puts it too), the tables right after it, all in the legacy hole the e820 map reserves.
    /// </summary>
    public const ulong AcpiRsdp = 0xE0000;
    public const ulong AcpiTables = 0xE0040;
    public const ulong AcpiTablesEnd = 0x100000;
    public const ulong HighMemoryStart = 0x100000;
    /// <summary>Kernels load at 1 MiB (bzImage protected-mode code; ELF by their own physical addresses).</summary>
    public const ulong KernelLoad = 0x100000;

    /// <summary>RAM stops below 4 GiB here; the rest goes above 4 GiB. The gap is the PCI/APIC MMIO hole.</summary>
    public const ulong PciHoleStart = 0xC000_0000;
    public const ulong FourGiB = 0x1_0000_0000;
    /// <summary>
    /// Where PCI BARs are placed and decoded: the top of the hole up to the IOAPIC. The hole's first 512 MiB stay
    /// unclaimed (the exit benchmarks' MMIO target 0xD0000000 lives there, as in QEMU's pc machine).
    /// </summary>
    public const ulong PciWindowStart = 0xE000_0000;
    public const ulong PciWindowEnd = IoApic;
    public const ulong IoApic = 0xFEC0_0000;
    public const ulong LocalApic = 0xFEE0_0000;
    /// <summary>KVM's real-mode TSS (3 pages) and identity-map page, where QEMU puts them: inside the hole.</summary>
    public const ulong KvmTss = 0xFFFB_D000;
    public const ulong KvmIdentityMap = 0xFFFB_C000;

    /// <summary>The RAM regions for <paramref name="memoryBytes"/> of guest memory.</summary>
    public static IReadOnlyList<(ulong GuestAddress, ulong Size)> RamRegions(ulong memoryBytes)
    {
        if (memoryBytes <= PciHoleStart)
        {
            return [(0, memoryBytes)];
        }

        return [(0, PciHoleStart), (FourGiB, memoryBytes - PciHoleStart)];
    }
}
