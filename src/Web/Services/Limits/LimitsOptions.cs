namespace Platform.Web.Services.Limits;

/// <summary>Settings under <c>Platform:Limits</c>: whether VMs run in cgroups of their own, and the memory a VMM may take beyond guest RAM.</summary>
public sealed class LimitsOptions
{
    public const string Section = "Platform:Limits";

    /// <summary>
    /// Put each VMM in a cgroup of its own holding it to its limits. Where the host offers no usable cgroup (no
    /// controllers, no write access) VMs still start, unlimited, and the Host page says why.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// What a VM's memory limit allows beyond its guest RAM: the VMM itself (about 8 MiB resident at start, see
    /// bench/README.md), the std-vga's 16 MiB of video memory, passt, virtio queues' buffers, qcow2 caches and the page
    /// cache its writeback disks fill (charged to the cgroup and reclaimed at the limit, never a cause to kill).
    /// </summary>
    public int VmmMemoryOverheadMiB { get; set; } = 128;
}
