using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services.Networks;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;

namespace Platform.Web.Endpoints;

/// <summary>A network as the API shows it; <see cref="MayUse"/> says whether the caller may attach NICs to it.</summary>
public sealed record NetworkResponse(Guid Id, string Name, NetworkKind Kind, string? Bridge, int? Vlan, string? Description, bool MayUse, int UsedByVms,
    string? Subnet = null, string? Gateway = null);

/// <summary>A bridge network on one of the host's bridges (<c>GET /networks/host-bridges</c> lists them).</summary>
/// <param name="Subnet">Optional, as its network address (<c>192.168.10.0/24</c>): cloud-init's static addresses on the network are checked against it.</param>
public sealed record CreateNetworkRequest(string Name, string Bridge, string? Description, int? Vlan = null, string? Subnet = null, string? Gateway = null);

/// <summary>The administered networks, and a running VM's interfaces with the addresses its guest uses.</summary>
internal static class NetworkEndpoints
{
    public static RouteGroupBuilder MapNetworkEndpoints(this RouteGroupBuilder networks)
    {
        networks.MapGet("/", async (NetworkService service, IPermissionService permissions, HttpContext http, CancellationToken cancellationToken) =>
            {
                var access = await permissions.GetAccessAsync(http.User, cancellationToken);
                if (!access.HasAnywhere(Privileges.NetworkUse) && !access.HasAny(Privileges.SysAudit | HostPaths.Needed))
                {
                    return Results.Problem("Listing networks needs Network.Use somewhere, Sys.Audit or User.Manage.", statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");
                }

                var list = await service.ListWithUsageAsync(cancellationToken);
                return TypedResults.Ok(list.Select(u => new NetworkResponse(u.Network.Id, u.Network.Name, u.Network.Kind, u.Network.Bridge,
                    u.Network.Vlan, u.Network.Description, access.CanUseNetwork(u.Network.Id), u.UsedBy.Count, u.Network.Subnet, u.Network.Gateway)).ToList());
            })
            .WithName("ListNetworks").WithSummary("The networks, and whether you may attach NICs to each (Network.Use)")
            .RequireSignedIn();
        networks.MapGet("/host-bridges", (IHostBridges bridges) => TypedResults.Ok(bridges.List()))
            .WithName("ListHostBridges").WithSummary("The host's bridges a bridge network can use (User.Manage)")
            .RequireUserManage();
        networks.MapPost("/", async (CreateNetworkRequest request, NetworkService service, HttpContext http, CancellationToken cancellationToken) =>
            {
                var result = await service.CreateBridgeAsync(AuditActor.From(http), request.Name?.Trim() ?? "", request.Bridge ?? "", request.Vlan, request.Description, cancellationToken,
                    request.Subnet, request.Gateway);
                return result.Succeeded
                    ? Results.Created($"{ApiEndpoints.Prefix}/networks/{result.Value!.Id}",
                        new NetworkResponse(result.Value.Id, result.Value.Name, result.Value.Kind, result.Value.Bridge, result.Value.Vlan, result.Value.Description, true, 0,
                            result.Value.Subnet, result.Value.Gateway))
                    : ApiResults.Problem(result);
            })
            .WithName("CreateNetwork").WithSummary("Add a bridge network on an existing host bridge (User.Manage)")
            .RequireUserManage();
        networks.MapDelete("/{id:guid}", async (Guid id, NetworkService service, HttpContext http, CancellationToken cancellationToken) =>
            {
                var result = await service.DeleteAsync(AuditActor.From(http), id, cancellationToken);
                return result.Succeeded ? Results.NoContent() : ApiResults.Problem(result);
            })
            .WithName("DeleteNetwork").WithSummary("Delete a network no NIC uses (User.Manage); default stays")
            .RequireUserManage();
        return networks;
    }

    /// <summary><c>GET /vms/{id}/interfaces</c>: each NIC of a running VM with the addresses its guest has sent from.</summary>
    public static RouteGroupBuilder MapVmInterfaceEndpoints(this RouteGroupBuilder vms)
    {
        vms.MapGet("/{id:guid}/interfaces", async (Guid id, VmService service, IVmRuntimeInfo runtime, CancellationToken cancellationToken) =>
            {
                if (await service.FindAsync(id, cancellationToken) is null)
                {
                    return ApiResults.NotFound("VM");
                }

                var stats = await runtime.GetStatsAsync(id, cancellationToken);
                if (stats is null)
                {
                    return Results.Problem("The VM is not running: addresses are learnt from a running guest's frames.", statusCode: StatusCodes.Status409Conflict, title: "Not running");
                }

                return TypedResults.Ok(GuestAddresses.Of(stats).Select(nic => new VmInterfaceResponse(nic.Position, nic.Name, nic.Mac, nic.Addresses)).ToList());
            })
            .WithName("GetVmInterfaces").WithSummary("A running VM's NICs and the IPv4/IPv6 addresses its guest uses (VM.Audit)")
            .RequirePrivilege(Privileges.VmAudit);
        return vms;
    }
}
