using Platform.Engine.Memory;

namespace Platform.Engine.Machine.Firmware.Acpi;

/// <summary>
/// ACPI for a kernel the VMM loads itself: the tables a BIOS boot gets through fw_cfg's linker/loader, linked here for
/// fixed places (<see cref="MemoryLayout.AcpiRsdp"/> and <see cref="MemoryLayout.AcpiTables"/>, inside the legacy hole
/// the e820 map reserves) and written straight into guest memory.
/// </summary>
internal static class DirectBootAcpi
{
    /// <summary>Writes the tables for <paramref name="platform"/>; returns the RSDP's address (for the zero page and PVH).</summary>
    public static ulong Write(GuestMemory memory, AcpiPlatform platform)
    {
        var files = AcpiTables.Build(platform);
        if (MemoryLayout.AcpiTables + (ulong)files.Tables.Length > MemoryLayout.AcpiTablesEnd)
        {
            throw new InvalidOperationException(
                $"The ACPI tables ({files.Tables.Length} bytes for {platform.CpuCount} vCPUs) do not fit below 1 MiB.");
        }

        var linked = AcpiLinker.Link(files, new Dictionary<string, ulong>
        {
            [AcpiFiles.TablesFile] = MemoryLayout.AcpiTables,
            [AcpiFiles.RsdpFile] = MemoryLayout.AcpiRsdp,
        });
        linked[AcpiFiles.TablesFile].CopyTo(memory.GetSpan(MemoryLayout.AcpiTables, files.Tables.Length));
        linked[AcpiFiles.RsdpFile].CopyTo(memory.GetSpan(MemoryLayout.AcpiRsdp, files.Rsdp.Length));
        return MemoryLayout.AcpiRsdp;
    }
}
