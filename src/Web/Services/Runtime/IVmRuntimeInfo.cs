
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

    /// <summary>
    /// Calls <paramref name="handler"/> with every running VM's counters as they are read, until disposed: each VM's
    /// at least once per history interval (<see cref="SampleAllAsync"/>), and a watched VM's every few seconds
    /// (<see cref="WatchStats"/>).
    /// </summary>
    IDisposable SubscribeStats(Action<VmStatsSample> handler);

    /// <summary>
    /// Marks <paramref name="vmId"/> as watched live until disposed: its counters are read every few seconds (the
    /// supervisor's stats interval) rather than once per history interval. A page or hub client that shows a VM's live
    /// numbers watches it; a VM nobody watches costs one read per history interval (issue 22).
    /// </summary>
    IDisposable WatchStats(Guid vmId) => NoWatch.Instance;

    /// <summary>One VM's counters, watched live (<see cref="WatchStats"/>), until disposed.</summary>
    IDisposable SubscribeStats(Guid vmId, Action<VmStatsSample> handler)
    {
        var watch = WatchStats(vmId);
        var subscription = SubscribeStats(sample =>
        {
            if (sample.VmId == vmId)
            {
                handler(sample);
            }
        });
        return new Both(subscription, watch);
    }

    /// <summary>Reads every running VM's counters now and hands them to the subscribers: the history's tick.</summary>
    Task SampleAllAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private sealed class NoWatch : IDisposable
    {
        public static readonly NoWatch Instance = new();

        public void Dispose()
        {
        }
    }

    private sealed class Both(IDisposable first, IDisposable second) : IDisposable
    {
        public void Dispose()
        {
            first.Dispose();
            second.Dispose();
        }
    }
}
