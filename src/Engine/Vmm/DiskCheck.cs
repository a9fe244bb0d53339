using Platform.Devices.Virtio.Block;

namespace Platform.Engine.Vmm;

/// <summary><c>platform-vmm --check --disk …</c>: each disk's format, virtual size and backing chain, opened read-only.</summary>
internal static class DiskCheck
{
    /// <summary>Prints one block per disk; 1 when any cannot be opened (the reason is printed), else 0.</summary>
    public static int Report(TextWriter output, IReadOnlyList<DiskOptions> disks)
    {
        int result = 0;
        for (int i = 0; i < disks.Count; i++)
        {
            try
            {
                var description = DiskImages.Describe(disks[i].Path, disks[i].Format);
                foreach (string line in description.Lines())
                {
                    output.WriteLine($"disk{i}: {line}");
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                output.WriteLine($"disk{i}: error: {ex.Message}");
                result = 1;
            }
        }

        return result;
    }
}
