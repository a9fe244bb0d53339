using Platform.Web.Data;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Tasks;
using Platform.Web.Services.Vms;

namespace Platform.Web.Services.Supervisor;

/// <summary>
/// What a starting dashboard finds in the runtime folders and makes right: VMMs that outlived the last dashboard are
/// reattached, a dead one's leftovers removed, a restart that was due taken over; then the autostart VMs start.
/// </summary>
internal sealed class SupervisorStartup(VmSupervisor supervisor, SupervisorContext context)
{
    /// <summary>Reconciles every runtime folder; returns the autostart VMs to start.</summary>
    public async Task<IReadOnlyList<VirtualMachine>> ReconcileAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(supervisor.RuntimeRoot);
        var vms = await context.Definitions.ListAsync(cancellationToken);
        var known = vms.ToDictionary(vm => vm.Id);
        foreach (string directory in Directory.GetDirectories(supervisor.RuntimeRoot))
        {
            if (!Guid.TryParseExact(Path.GetFileName(directory), "N", out var vmId))
            {
                continue;
            }

            string name = known.TryGetValue(vmId, out var vm) ? vm.Name : vmId.ToString();
            if (await context.Launcher.TryAttachAsync(directory, cancellationToken) is { } vmm)
            {
                CrashRestarts.DeletePending(directory);
                await supervisor.Actor(vmId, name).AttachAsync(vmm, name);
                continue;
            }

            context.Launcher.RemoveStaleFiles(directory);
            if (CrashRestarts.ReadPending(directory) is not { } crashes)
            {
                continue;
            }

            if (vm is null)
            {
                CrashRestarts.DeletePending(directory); // Deleted while its restart was due.
                continue;
            }

            await supervisor.Actor(vmId, name).TakeOverRestartAsync(name, crashes);
        }

        return [.. vms.Where(vm => vm.Autostart && IsOwn(vm))];
    }

    /// <summary>
    /// Whether this host runs <paramref name="vm"/> at start: on a single host every VM; in a cluster those it owns
    /// (a VM with no host, made before the cluster, is no host's to start on its own: each would start a copy).
    /// </summary>
    private bool IsOwn(VirtualMachine vm) =>
        context.Options.ClusterHostName is not { } thisHost || string.Equals(vm.HostName, thisHost, StringComparison.Ordinal);

    /// <summary>
    /// Starts each autostart VM that is not running or waiting for its restart, each as a task by the system (the task
    /// log shows who started it and, when it failed, why); a failure also goes to its event log.
    /// </summary>
    public async Task AutostartAsync(IReadOnlyList<VirtualMachine> vms, CancellationToken cancellationToken)
    {
        // EF Core compiles a query's shape on its first use (about half a second here): do it now for the one every
        // start runs, rather than at the first click on Start.
        await context.Definitions.LoadAsync(Guid.Empty, cancellationToken);
        if (context.Options.Autostart == false)
        {
            SupervisorContext.Log.AutostartOff(context.Logger, vms.Count);
            return;
        }

        foreach (var vm in vms.Where(vm => supervisor.GetState(vm.Id) is VmPowerState.Stopped or VmPowerState.Crashed))
        {
            using var task = context.BeginTask(TaskActions.VmAutostart, vm.Id, vm.Name, $"Start {vm.Name}: it starts with the dashboard (autostart)");
            try
            {
                await supervisor.Actor(vm.Id, vm.Name).StartAsync(cancellationToken);
                task?.Succeed($"{vm.Name} is running");
            }
            catch (VmRuntimeException ex)
            {
                foreach (string line in ex.VmmLog)
                {
                    task?.Log($"vmm.log: {line}");
                }

                task?.Fail(ex.Message);
                await context.RecordAsync(vm.Id, vm.Name, VmEventResult.Failed, $"Autostart of {vm.Name} failed: {ex.Message}", VmEventKinds.Start);
            }
            catch (OperationCanceledException)
            {
                task?.Cancel("the dashboard stopped before the VM ran");
                return;
            }
        }
    }
}
