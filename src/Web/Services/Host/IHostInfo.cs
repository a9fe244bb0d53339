
namespace Platform.Web.Services.Host;

/// <summary>What the host offers VMs, read when asked (memory changes; the rest does not).</summary>
/// <param name="CpuModel">The CPU's model name from /proc/cpuinfo; "unknown" where it has none.</param>
/// <param name="CpuCount">Logical CPUs this process may use.</param>
/// <param name="TotalMemoryMiB">MemTotal.</param>
/// <param name="AvailableMemoryMiB">MemAvailable: what new VMs can have without swapping.</param>
/// <param name="KvmKind">Hardware KVM, the PVM module, or none.</param>
public sealed record HostSnapshot(string CpuModel, int CpuCount, long TotalMemoryMiB, long AvailableMemoryMiB, KvmKind KvmKind);

/// <summary>The host's CPU, memory and KVM; a seam so tests can pretend to be another machine.</summary>
public interface IHostInfo
{
    HostSnapshot Read();
}
