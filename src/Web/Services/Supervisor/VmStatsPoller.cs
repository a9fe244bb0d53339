using Platform.Web.Services.Runtime;

namespace Platform.Web.Services.Supervisor;

/// <summary>
/// Reads the counters of the running VMs someone watches (<see cref="IVmRuntimeInfo.WatchStats"/>: a page or hub
/// client showing their live numbers) each interval. Every other VM is read once per history interval, by the
/// history's tick (<see cref="VmSupervisor.SampleAllAsync"/>): a host of a thousand idle VMs nobody looks at is not
/// asked for five hundred readings a second (issue 22).
/// </summary>
internal sealed class VmStatsPoller(VmSupervisor supervisor, TimeSpan interval)
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
                    await supervisor.ReadAndPublishAsync(actor.VmId, cancellationToken);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The dashboard is stopping.
        }
    }
}
