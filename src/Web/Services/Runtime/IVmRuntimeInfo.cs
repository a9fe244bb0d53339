
namespace Platform.Web.Services.Runtime;

/// <summary>The sockets a running VM's VMM serves; the console bridges connect to them.</summary>
public enum VmSocket
{
    Control,
    Serial,
    Vnc,
}

/// <summary>Live counters of one running VM, as pushed to pages and the hub.</summary>
public sealed record VmStatsSample(Guid VmId, VmmStats Stats, DateTimeOffset At);

/// <summary>What the supervisor knows about running VMMs beyond their power state: counters and sockets.</summary>
public interface IVmRuntimeInfo
{
    /// <summary>The VMM's counters now; null when the VM is not running.</summary>
    Task<VmmStats?> GetStatsAsync(Guid vmId, CancellationToken cancellationToken);

    /// <summary>The path of one of the VMM's sockets; null when the VM is not running (or the VMM does not serve it).</summary>
    string? GetSocketPath(Guid vmId, VmSocket socket);

    /// <summary>In a cluster, the other host that runs the VM (its sockets are there); null for this host's VMs, and on a single host.</summary>
    string? RemoteHostOf(Guid vmId) => null;

    /// <summary>Calls <paramref name="handler"/> with each running VM's counters every few seconds until disposed.</summary>
    IDisposable SubscribeStats(Action<VmStatsSample> handler);
}
