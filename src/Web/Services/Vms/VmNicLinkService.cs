using Microsoft.EntityFrameworkCore;
using Platform.Web.Data;
using Platform.Web.Services.Runtime;

namespace Platform.Web.Services.Vms;

/// <summary>
/// A NIC's cable, as virt-manager's "Link state: active" box and QEMU's <c>set_link</c>: pulled out or plugged in on a
/// running VM through its VMM. Not part of the definition: the cable is the running machine's, and the next start
/// begins with it plugged in, as in QEMU. Each change, done or refused, goes to the VM's event log.
/// </summary>
public sealed class VmNicLinkService(IDbContextFactory<PlatformDbContext> dbFactory, IVmRuntime runtime, IRunningNics nics, IVmEventLog events)
{
    /// <summary>Each NIC's link while VM <paramref name="vmId"/> runs; null while it does not (or stopped meanwhile).</summary>
    public async Task<IReadOnlyList<NicLinkState>?> GetLiveAsync(Guid vmId, CancellationToken cancellationToken)
    {
        if (!IsLive(runtime.GetState(vmId)))
        {
            return null;
        }

        try
        {
            return await nics.QueryAsync(vmId, cancellationToken);
        }
        catch (VmRuntimeException)
        {
            return null; // stopped meanwhile: there is no cable to show
        }
    }

    /// <summary>
    /// Plugs NIC <paramref name="position"/>'s cable in (<paramref name="up"/>) or pulls it out. NotFound without the VM
    /// or the NIC; Conflict while the VM is not running, or when the VMM refuses (the reason says why).
    /// </summary>
    public async Task<ServiceResult> SetLinkAsync(Guid vmId, int position, bool up, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var vm = await db.VirtualMachines.AsNoTracking().IgnoreAutoIncludes().Include(v => v.Nics)
            .FirstOrDefaultAsync(v => v.Id == vmId, cancellationToken);
        if (vm is null)
        {
            return ServiceResult.Fail(ServiceStatus.NotFound, "There is no such VM; it may have been deleted.");
        }

        var nic = vm.Nics.FirstOrDefault(n => n.Position == position);
        if (nic is null)
        {
            return ServiceResult.Fail(ServiceStatus.NotFound, vm.Nics.Count == 0
                ? $"{vm.Name} has no NICs."
                : $"{vm.Name} has no NIC at index {position}: its {vm.Nics.Count} NIC(s) are at 0 to {vm.Nics.Count - 1}.");
        }

        var state = runtime.GetState(vmId);
        if (!IsLive(state))
        {
            return ServiceResult.Fail(ServiceStatus.Conflict,
                $"{vm.Name} is {state.ToString().ToLowerInvariant()}: a NIC's cable is the running VM's, so it can be pulled or plugged in only while it runs (every start begins with it plugged in).");
        }

        string done = up ? $"Plugged in the cable of NIC {position + 1} ({nic.MacAddress})" : $"Pulled out the cable of NIC {position + 1} ({nic.MacAddress})";
        try
        {
            await nics.SetLinkAsync(vmId, position, up, cancellationToken);
        }
        catch (VmRuntimeException ex)
        {
            await LogAsync(vm, $"{done}: refused. {ex.Message}", VmEventResult.Failed, cancellationToken);
            return ServiceResult.Fail(ServiceStatus.Conflict, ex.Message);
        }

        await LogAsync(vm, $"{done}; the guest sees the link {(up ? "up" : "down")} now.", VmEventResult.Succeeded, cancellationToken);
        return ServiceResult.Ok();
    }

    private Task LogAsync(VirtualMachine vm, string message, VmEventResult result, CancellationToken cancellationToken) =>
        events.AddAsync(new VmEvent { VmId = vm.Id, VmName = vm.Name, Kind = VmEventKinds.NicLink, Result = result, Message = message }, cancellationToken);

    /// <summary>States in which a VMM runs the machine and answers for its NICs.</summary>
    private static bool IsLive(VmPowerState state) => state is VmPowerState.Running or VmPowerState.Paused;
}
