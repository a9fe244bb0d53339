using Orleans;
using Orleans.Concurrency;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Supervisor;

namespace Platform.Web.Services.Cluster;

/// <summary>
/// This host's agent (<see cref="IHostAgentGrain"/>): hands other hosts' commands to this host's supervisor, and
/// their VMs' state changes to this host's <see cref="ClusterVmRuntime"/>. Reentrant: a start waits for its VMM and
/// a shutdown for its guest, and neither may hold up the host's other VMs (the supervisor's per-VM actors already
/// keep each VM's actions in order).
/// </summary>
[HostPlacement, Reentrant]
internal sealed class HostAgentGrain(VmSupervisor supervisor, ClusterVmRuntime runtime) : Grain, IHostAgentGrain
{
    public async Task<VmCommandResult> CommandAsync(VmCommand command, CancellationToken cancellationToken)
    {
        try
        {
            await (command.Kind switch
            {
                VmCommandKind.Start => supervisor.StartAsync(command.VmId, cancellationToken),
                VmCommandKind.Shutdown => supervisor.ShutdownAsync(command.VmId, command.Timeout, cancellationToken),
                VmCommandKind.Stop => supervisor.StopAsync(command.VmId, cancellationToken),
                VmCommandKind.Pause => supervisor.PauseAsync(command.VmId, cancellationToken),
                VmCommandKind.Resume => supervisor.ResumeAsync(command.VmId, cancellationToken),
                VmCommandKind.Reset => supervisor.ResetAsync(command.VmId, cancellationToken),
                VmCommandKind.Forget => supervisor.ForgetAsync(command.VmId, cancellationToken),
                _ => throw new ArgumentOutOfRangeException(nameof(command), command.Kind, "unknown command"),
            });
        }
        catch (VmRuntimeException ex)
        {
            return new VmCommandResult { Error = ex.Message, Unavailable = ex.Unavailable, VmmLog = [.. ex.VmmLog], State = runtime.LocalNotice(command.VmId) };
        }

        return new VmCommandResult { State = runtime.LocalNotice(command.VmId) };
    }

    public async Task<string?> GetStatsJsonAsync(Guid vmId, CancellationToken cancellationToken) =>
        await supervisor.GetStatsAsync(vmId, cancellationToken) is { } stats
            ? System.Text.Json.JsonSerializer.Serialize(stats, ControlJson.Default.VmmStats)
            : null;

    public Task<List<VmStateNotice>> GetStatesAsync(CancellationToken cancellationToken)
    {
        return Task.FromResult(supervisor.Actors().Select(actor => runtime.LocalNotice(actor.VmId)).ToList());
    }

    public Task StateChangedAsync(string host, VmStateNotice notice, CancellationToken cancellationToken)
    {
        runtime.OnRemoteChange(host, notice);
        return Task.CompletedTask;
    }

    public Task EventAddedAsync(string host, VmEventNotice entry, CancellationToken cancellationToken)
    {
        runtime.OnRemoteEvent(entry);
        return Task.CompletedTask;
    }
}
