using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services.Vms;

namespace Platform.Web.Endpoints;

/// <summary>
/// The VM event/task log, newest first: under <c>/events</c> the events of every VM the caller may see (and, with
/// Sys.Audit, those about the host), one VM's under <c>/vms/{id}/events</c> (VM.Audit). <c>/events</c> asked for <c>text/event-stream</c>
/// follows the log live instead (<see cref="VmEventStream"/>), with the same filtering.
/// </summary>
internal static class EventEndpoints
{
    public static RouteGroupBuilder MapEventEndpoints(this RouteGroupBuilder events)
    {
        events.MapGet("/", async (IVmEventLog log, IPermissionService permissions, IAuditLog audit, HttpContext http, CancellationToken cancellationToken,
                    Guid? vmId, int skip = 0, int take = 50) =>
                {
                    var visibility = (await permissions.GetAccessAsync(http.User, cancellationToken)).Visibility;
                    if (vmId is { } id && !visibility.CanSee(id))
                    {
                        // The VM is in the query, not the route, so the API's filter cannot tell: the refusal is audited here.
                        await audit.AddAsync(AuditActor.From(http), $"{AuditActions.ApiRequest} GET /api/v1/events", AuditResult.Denied, id,
                            detail: "VM not visible (answered 404)");
                        return ApiResults.NotFound("VM");
                    }

                    return VmEventStream.Wants(http.Request)
                        ? new StreamResult(vmId)
                        : await ListAsync(log, vmId, visibility, skip, take, cancellationToken);
                })
            .WithName("ListEvents")
            .WithSummary("The event log, newest first, of what you may see (take at most 500); with Accept: text/event-stream, "
                + "the entries as they are written, as server-sent events")
            .Produces<VmEventPageResponse>()
            .Produces<VmEventResponse>(StatusCodes.Status200OK, VmEventStream.ContentType)
            .RequireSignedIn();
        return events;
    }

    public static RouteGroupBuilder MapVmEventEndpoints(this RouteGroupBuilder vms)
    {
        vms.MapGet("/{id:guid}/events", (Guid id, IVmEventLog log, CancellationToken cancellationToken, int skip = 0, int take = 50) =>
                ListAsync(log, id, VmVisibility.Everything, skip, take, cancellationToken))
            .WithName("ListVmEvents").WithSummary("One VM's events, newest first (kept after the VM is deleted)")
            .RequirePrivilege(Privileges.VmAudit);
        return vms;
    }

    private static async Task<IResult> ListAsync(IVmEventLog log, Guid? vmId, VmVisibility visibility, int skip, int take, CancellationToken cancellationToken)
    {
        var page = await log.ListAsync(vmId, visibility, skip, take, cancellationToken);
        return TypedResults.Ok(new VmEventPageResponse(page.Items.Select(VmEventResponse.From).ToList(), page.Total));
    }

    private sealed class StreamResult(Guid? vmId) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => VmEventStream.WriteAsync(httpContext, vmId, httpContext.RequestAborted);
    }
}
