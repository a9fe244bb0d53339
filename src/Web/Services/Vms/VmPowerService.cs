using Microsoft.EntityFrameworkCore;
using Platform.Web.Data;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Tasks;

namespace Platform.Web.Services.Vms;

/// <summary>The power actions a user can ask for; the API's <c>/vms/{id}/{action}</c> names them in lower case.</summary>
public enum VmPowerAction
{
    Start,
    Shutdown,
    Stop,
    Pause,
    Resume,
    Reset,
}

/// <summary>
/// Power actions for pages and the API alike: checks the VM exists, asks <see cref="IVmRuntime"/>, and writes the
/// outcome to the event log. Each is a task (<see cref="ITaskLog"/>) whose log says what was asked and, when it fails,
/// why: the runtime's reason and, for a VMM that would not start, the last lines of its <c>vmm.log</c>. A <see cref="VmRuntimeException"/> becomes Conflict (the VM's state forbids it) or
/// Unavailable (the supervisor cannot act), with the runtime's reason as the message.
/// </summary>
public sealed class VmPowerService(IDbContextFactory<PlatformDbContext> dbFactory, IVmRuntime runtime, IVmEventLog events, ITaskLog tasks)
{
    /// <summary>How long a shutdown waits for the guest before the VMM is ended.</summary>
    public static readonly TimeSpan DefaultShutdownTimeout = TimeSpan.FromSeconds(60);

    public VmPowerState GetState(Guid vmId) => runtime.GetState(vmId);

    public async Task<ServiceResult<VmPowerState>> RunAsync(Guid vmId, VmPowerAction action, TimeSpan? shutdownTimeout, CancellationToken cancellationToken)
    {
        string? name;
        bool template;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            var found = await db.VirtualMachines.IgnoreAutoIncludes().Where(vm => vm.Id == vmId).Select(vm => new { vm.Name, vm.IsTemplate }).FirstOrDefaultAsync(cancellationToken);
            (name, template) = (found?.Name, found?.IsTemplate == true);
        }

        if (name is null)
        {
            return ServiceResult<VmPowerState>.Fail(ServiceStatus.NotFound, "There is no such VM; it may have been deleted.");
        }

        if (template && action == VmPowerAction.Start)
        {
            return ServiceResult<VmPowerState>.Fail(ServiceStatus.Conflict, TemplateStartMessage(name));
        }

        using var task = tasks.Begin(TaskOf(action), vmId, vmName: name);
        task.Log(action == VmPowerAction.Shutdown
            ? $"{Verb(action)} {name}: asking the guest, then ending the VMM after {(shutdownTimeout ?? DefaultShutdownTimeout).TotalSeconds:0} s"
            : $"{Verb(action)} {name} (now {runtime.GetState(vmId).ToString().ToLowerInvariant()})");
        try
        {
            await (action switch
            {
                VmPowerAction.Start => runtime.StartAsync(vmId, cancellationToken),
                VmPowerAction.Shutdown => runtime.ShutdownAsync(vmId, shutdownTimeout ?? DefaultShutdownTimeout, cancellationToken),
                VmPowerAction.Stop => runtime.StopAsync(vmId, cancellationToken),
                VmPowerAction.Pause => runtime.PauseAsync(vmId, cancellationToken),
                VmPowerAction.Resume => runtime.ResumeAsync(vmId, cancellationToken),
                VmPowerAction.Reset => runtime.ResetAsync(vmId, cancellationToken),
                _ => throw new ArgumentOutOfRangeException(nameof(action), action, "unknown power action"),
            });
        }
        catch (VmRuntimeException ex)
        {
            foreach (string line in ex.VmmLog)
            {
                task.Log($"vmm.log: {line}");
            }

            task.Fail(ex.Message);
            await events.AddAsync(new VmEvent
            {
                VmId = vmId, VmName = name, Kind = action.ToString(), Result = VmEventResult.Failed,
                Message = $"{Verb(action)} {name} failed: {ex.Message}",
            }, CancellationToken.None);
            return ServiceResult<VmPowerState>.Fail(ex.Unavailable ? ServiceStatus.Unavailable : ServiceStatus.Conflict, ex.Message);
        }
        catch (OperationCanceledException)
        {
            // The caller stopped waiting (a closed request): the supervisor goes on with the action all the same.
            task.Cancel("The caller stopped waiting; the supervisor carries on, and the VM's state shows the outcome.");
            throw;
        }

        await events.AddAsync(new VmEvent
        {
            VmId = vmId, VmName = name, Kind = action.ToString(), Result = VmEventResult.Succeeded,
            Message = $"{Verb(action)} {name}: done.",
        }, CancellationToken.None);
        // Read after the entry is written, as before tasks: a pause's STOP event lands a moment after its reply.
        var state = runtime.GetState(vmId);
        task.Succeed($"{name} is {state.ToString().ToLowerInvariant()}");
        return ServiceResult<VmPowerState>.Ok(state);
    }

    public static string TaskOf(VmPowerAction action) => action switch
    {
        VmPowerAction.Start => TaskActions.VmStart,
        VmPowerAction.Shutdown => TaskActions.VmShutdown,
        VmPowerAction.Stop => TaskActions.VmStop,
        VmPowerAction.Pause => TaskActions.VmPause,
        VmPowerAction.Resume => TaskActions.VmResume,
        _ => TaskActions.VmReset,
    };

    public static string TemplateStartMessage(string name) =>
        $"{name} is a template, which is never started (its disks are the base of its linked clones). Clone it, or make it an ordinary VM first.";

    /// <summary>"Start", "Shut down"…: the action as a button or log line says it.</summary>
    public static string Verb(VmPowerAction action) => action switch
    {
        VmPowerAction.Shutdown => "Shut down",
        _ => action.ToString(),
    };
}
