using Platform.Web.Services.Runtime;

namespace Platform.Web.Services.Supervisor;

/// <summary>
/// Reads the counters of the running VMs someone watches (<see cref="IVmRuntimeInfo.WatchStats"/>: a page or hub
/// client showing their live numbers) each interval. Every other VM is read once per history interval, by the
/// history's tick (<see cref="VmSupervisor.SampleAllAsync"/>): a host of a thousand idle VMs nobody looks at is not
/// asked for five hundred readings a second (issue 22).
/// </summary>
internal sealed class VmStatsPoller(VmSupervisor supervisor, TimeSpan interval, Action<VmStatsSample> publish, ILogger logger)
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                foreach (var actor in supervisor.Actors().Where(a => a.Vmm is not null && supervisor.IsWatched(a.VmId)))
                {
                    try
                    {
                        if (await supervisor.GetStatsAsync(actor.VmId, cancellationToken) is { } stats)
                        {
                            publish(new VmStatsSample(actor.VmId, stats, DateTimeOffset.UtcNow));
                        }
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
                    {
                        // One VM's failed reading must not end the live numbers of every VM for the dashboard's life.
                        logger.LogWarning(ex, "Could not read the counters of VM {VmId}", actor.VmId);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The dashboard is stopping.
        }
    }
}
