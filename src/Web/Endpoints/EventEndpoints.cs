using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Web.Services.Vms;

namespace Platform.Web.Endpoints;

/// <summary>The VM event/task log, newest first: all of it under <c>/events</c>, one VM's under <c>/vms/{id}/events</c>.</summary>
internal static class EventEndpoints
{
    public static RouteGroupBuilder MapEventEndpoints(this RouteGroupBuilder events)
    {
        events.MapGet("/", (IVmEventLog log, CancellationToken cancellationToken, Guid? vmId, int skip = 0, int take = 50) =>
                ListAsync(log, vmId, skip, take, cancellationToken))
            .WithName("ListEvents").WithSummary("The event log, newest first (take at most 500)");
        return events;
    }

    public static RouteGroupBuilder MapVmEventEndpoints(this RouteGroupBuilder vms)
    {
        vms.MapGet("/{id:guid}/events", (Guid id, IVmEventLog log, CancellationToken cancellationToken, int skip = 0, int take = 50) =>
                ListAsync(log, id, skip, take, cancellationToken))
            .WithName("ListVmEvents").WithSummary("One VM's events, newest first (kept after the VM is deleted)");
        return vms;
    }

    private static async Task<Ok<VmEventPageResponse>> ListAsync(IVmEventLog log, Guid? vmId, int skip, int take, CancellationToken cancellationToken)
    {
        var page = await log.ListAsync(vmId, skip, take, cancellationToken);
        return TypedResults.Ok(new VmEventPageResponse(page.Items.Select(VmEventResponse.From).ToList(), page.Total));
    }
}
