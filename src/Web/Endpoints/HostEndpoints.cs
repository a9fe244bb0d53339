using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Web.Security;
using Platform.Web.Services.Host;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;

namespace Platform.Web.Endpoints;

/// <summary>The host: CPU, memory, KVM kind and the VMs that are not stopped.</summary>
internal static class HostEndpoints
{
    public static RouteGroupBuilder MapHostEndpoints(this RouteGroupBuilder host)
    {
        host.MapGet("/", GetAsync).WithName("GetHost").WithSummary("CPU, memory, KVM kind and the active VMs you may see (Sys.Audit)")
            .RequirePrivilege(Privileges.SysAudit);
        return host;
    }

    private static async Task<Ok<HostResponse>> GetAsync(
        IHostInfo host, VmService vms, IVmRuntime runtime, IPermissionService permissions, Services.Cluster.VmHostChoice hosts, HttpContext http,
        CancellationToken cancellationToken)
    {
        var access = await permissions.GetAccessAsync(http.User, cancellationToken);
        // This host's VMs only: in a cluster, the others run on theirs.
        var active = (await vms.ListAsync(cancellationToken))
            .Where(vm => access.CanSee(vm.Id) && hosts.IsLocal(vm.HostName))
            .Select(vm => new VmPowerResponse(vm.Id, runtime.GetState(vm.Id)))
            .Where(vm => vm.State != VmPowerState.Stopped)
            .ToList();
        return TypedResults.Ok(HostResponse.From(host.Read(), active));
    }
}
