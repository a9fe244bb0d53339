using Platform.Engine.Boot;
using Platform.Engine.Boot.Disk;
using Platform.Engine.Machine;

namespace Platform.Engine.Vmm;

/// <summary><c>platform-vmm --check --boot disk --disk IMAGE</c>: what a boot from that disk would load, without booting it.</summary>
internal static class DiskBootCheck
{
    public static int Report(MachineConfig machine, TextWriter output)
    {
        try
        {
            var image = DiskBoot.Load(machine.Disks[0].Path, diskIndex: 0, machine.MemoryBytes, machine.Disks[0].Format);
            foreach (string line in image.Info.Describe(machine.CommandLine))
            {
                output.WriteLine(line);
            }

            output.WriteLine($"  kernel format: {Format(image.Kernel.Span)}");
            return 0;
        }
        catch (BootException ex)
        {
            output.WriteLine($"disk boot: {ex.Message}");
            return 1;
        }
    }

    private static string Format(ReadOnlySpan<byte> kernel) =>
        BzImage.LooksLikeBzImage(kernel) ? "bzImage (Linux boot protocol)"
        : ElfKernel.LooksLikeElf(kernel) ? "ELF (the PVH entry)"
        : "neither bzImage nor ELF: it will not boot";
}
