using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Web.Security;
using Platform.Web.Services.Cluster;

namespace Platform.Web.Endpoints;

/// <summary>The cluster's hosts: each with its address, membership state and last heartbeat; a single host lists itself.</summary>
internal static class HostsEndpoints
{
    public static RouteGroupBuilder MapHostsEndpoints(this RouteGroupBuilder hosts)
    {
        hosts.MapGet("/", ListAsync).WithName("ListHosts")
            .WithSummary("The cluster's hosts: name, address, state, last heartbeat (Sys.Audit); a single host lists itself")
            .RequirePrivilege(Privileges.SysAudit);
        return hosts;
    }

    private static async Task<Ok<IReadOnlyList<ClusterHost>>> ListAsync(IClusterHosts hosts, CancellationToken cancellationToken) =>
        TypedResults.Ok(await hosts.ListAsync(cancellationToken));
}
