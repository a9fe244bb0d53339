using Platform.Web.Services.Runtime;

namespace Platform.Web.Services.Supervisor;

/// <summary>Reads every running VM's counters each interval for the live pages and the hub.</summary>
internal sealed class VmStatsPoller(VmSupervisor supervisor, TimeSpan interval, Action<VmStatsSample> publish)
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                foreach (var actor in supervisor.Actors().Where(a => a.Vmm is not null))
                {
                    if (await supervisor.GetStatsAsync(actor.VmId, cancellationToken) is { } stats)
                    {
                        publish(new VmStatsSample(actor.VmId, stats, DateTimeOffset.UtcNow));
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
