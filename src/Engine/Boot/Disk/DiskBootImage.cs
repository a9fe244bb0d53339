namespace Platform.Engine.Boot.Disk;

/// <summary>What a disk boot found, in the user's terms: for --check, the VMM's log and the failure messages.</summary>
/// <param name="Disk">"disk 0".</param>
/// <param name="Device">The partition as the guest sees it: "/dev/vda1".</param>
/// <param name="FileSystem">"ext4".</param>
/// <param name="Source">The configuration and entry: "GRUB /boot/grub/grub.cfg, entry 'Debian GNU/Linux'".</param>
/// <param name="KernelPath">The kernel's file on that partition, links resolved.</param>
/// <param name="CommandLine">The command line the configuration gives (before anything --append adds).</param>
public sealed record DiskBootInfo(
    string Disk, DiskPartition Partition, string Device, string FileSystem, string Source,
    string KernelPath, long KernelBytes, IReadOnlyList<string> InitrdPaths, long InitrdBytes, string CommandLine,
    IReadOnlyList<string> Notes)
{
    /// <summary>The report: where, which configuration, which files, the command line, and the notes.</summary>
    public IEnumerable<string> Describe(string? appended = null)
    {
        yield return $"{Disk}: boots from {Partition.Describe()} ({Device}, {FileSystem})";
        yield return $"  found: {Source}";
        yield return $"  kernel: {KernelPath} ({SizeText.Of((ulong)KernelBytes)})";
        yield return InitrdPaths.Count == 0
            ? "  initrd: none"
            : $"  initrd: {string.Join(", ", InitrdPaths)} ({SizeText.Of((ulong)InitrdBytes)})";
        yield return $"  command line: {DiskBoot.JoinCommandLine(CommandLine, appended)}";
        foreach (string note in Notes)
        {
            yield return $"  note: {note}";
        }
    }

    /// <summary>One line for the VMM's log.</summary>
    public string Summary =>
        $"{Disk}: booting {KernelPath}{(InitrdPaths.Count > 0 ? " + " + string.Join(", ", InitrdPaths) : "")} from {Device} ({Source})";
}

/// <summary>The files a disk boot loads, and what they are.</summary>
public sealed class DiskBootImage
{
    internal DiskBootImage(DiskBootInfo info, byte[] kernel, byte[] initrd)
    {
        Info = info;
        Kernel = kernel;
        Initrd = initrd;
    }

    public DiskBootInfo Info { get; }

    public ReadOnlyMemory<byte> Kernel { get; }

    /// <summary>The initrds one after another (each padded to 4 bytes, as GRUB loads several); empty without one.</summary>
    public ReadOnlyMemory<byte> Initrd { get; }
}
