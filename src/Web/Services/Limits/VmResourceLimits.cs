using Platform.Web.Data;

namespace Platform.Web.Services.Limits;

/// <summary>
/// What one VM's cgroup holds it to, in the kernel's terms. Made from the stored definition by <see cref="From"/>, the
/// one place that says how a VM's settings become cgroup values, so the start and a live change write the same.
/// </summary>
/// <param name="MemoryBytes">Guest RAM plus the VMM's bounded overhead (<see cref="LimitsOptions.VmmMemoryOverheadMiB"/>).</param>
/// <param name="CpuLimit">At most this many CPUs' worth of time (Proxmox's <c>cpulimit</c>); null: as many as it has vCPUs can use.</param>
/// <param name="CpuWeight">The relative share under contention, 1 to 10000, 100 the default (Proxmox's <c>cpuunits</c>, cgroup v2's <c>cpu.weight</c>).</param>
/// <param name="PidsMax">Processes and threads together (the VMM's threads and its passt children); null: no limit of its own.</param>
public sealed record VmResourceLimits(long MemoryBytes, double? CpuLimit, int CpuWeight, int? PidsMax)
{
    /// <summary>The CFS period the CPU limit is spread over, as Proxmox and systemd use: 100 ms.</summary>
    public const long CpuPeriodMicroseconds = 100_000;

    public static VmResourceLimits From(VirtualMachine vm, LimitsOptions options) => new(
        ((long)vm.MemoryMiB + options.VmmMemoryOverheadMiB) * 1024 * 1024,
        vm.CpuLimit is > 0 ? vm.CpuLimit : null,
        vm.CpuUnits,
        vm.PidsLimit);

    /// <summary>The CFS quota per <see cref="CpuPeriodMicroseconds"/> for <see cref="CpuLimit"/>, or null for none.</summary>
    public long? CpuQuotaMicroseconds => CpuLimit is { } cpus ? Math.Max(1000, (long)Math.Round(cpus * CpuPeriodMicroseconds)) : null;

    /// <summary>cgroup v1's <c>cpu.shares</c> for the weight: 1024 is v1's default as 100 is v2's (the kernel's own mapping, inverted).</summary>
    public long CpuShares => Math.Max(2, CpuWeight * 1024L / 100);
}
