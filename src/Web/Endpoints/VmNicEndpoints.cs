using Platform.Web.Security;
using Platform.Web.Services;
using Platform.Web.Services.Vms;

namespace Platform.Web.Endpoints;

/// <summary>Plug the NIC's cable in (<c>up: true</c>) or pull it out (<c>up: false</c>); required, so an empty body changes nothing.</summary>
public sealed record SetNicLinkRequest(bool? Up);

/// <summary>A running VM's NIC after a link change: <see cref="LinkUp"/> as its VMM reports it now.</summary>
public sealed record VmNicLinkResponse(Guid VmId, int Position, bool LinkUp);

/// <summary>
/// <c>POST /api/v1/vms/{id}/nics/{index}/link</c>: a running VM's NIC cable, through its VMM (<see cref="VmNicLinkService"/>).
/// It needs VM.Config on the VM, as editing the NIC does (Proxmox's <c>VM.Config.Network</c> is part of it here). The
/// link state of every NIC shows in <c>GET /api/v1/vms/{id}</c>'s <c>nics[].linkUp</c> while the VM runs.
/// </summary>
internal static class VmNicEndpoints
{
    public static RouteGroupBuilder MapVmNicEndpoints(this RouteGroupBuilder vms)
    {
        vms.MapPost("/{id:guid}/nics/{index:int}/link", SetLinkAsync).WithName("SetVmNicLink")
            .WithSummary("Pull a running VM's NIC cable out (up: false) or plug it back in (up: true); index is the NIC's position")
            .RequirePrivilege(Privileges.VmConfig, AuditActions.NicLink)
            .Produces<VmNicLinkResponse>().ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        return vms;
    }

    private static async Task<IResult> SetLinkAsync(Guid id, int index, SetNicLinkRequest request, VmNicLinkService links, CancellationToken cancellationToken)
    {
        if (request.Up is not { } up)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["up"] = ["Say true to plug the cable in or false to pull it out."] },
                title: "The request has invalid values.");
        }

        var result = await links.SetLinkAsync(id, index, up, cancellationToken);
        if (!result.Succeeded)
        {
            return ApiResults.Problem(result);
        }

        // The VMM's own word when it answers; the change it just took when it has stopped meanwhile.
        var live = (await links.GetLiveAsync(id, cancellationToken))?.FirstOrDefault(l => l.Position == index);
        return TypedResults.Ok(new VmNicLinkResponse(id, index, live?.LinkUp ?? up));
    }
}
