using Platform.Web.Security;
using Platform.Web.Services;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;

namespace Platform.Web.Endpoints;

/// <summary>A new VM made of this one: its name and whether its disks are copied whole or linked clones of a template's.</summary>
public sealed record CloneVmRequest(string? Name, CloneMode Mode = CloneMode.Full);

public sealed record SetTemplateRequest(bool IsTemplate);

/// <summary>A clone as it goes: bytes copied of the total, and once done the outcome and the new VM.</summary>
public sealed record CloneJobResponse(
    Guid Id, Guid SourceVmId, string Name, CloneMode Mode, CloneJobState State, long TotalBytes, long CopiedBytes, int Percent,
    string? Message, Guid? NewVmId, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt)
{
    public static CloneJobResponse From(CloneJob job) => new(job.Id, job.SourceVmId, job.Name, job.Mode, job.State, job.TotalBytes, job.CopiedBytes,
        job.Percent, job.State == CloneJobState.Running ? null : job.Message, job.NewVmId, job.StartedAt, job.FinishedAt);
}

/// <summary>
/// Templates and clones: <c>POST /api/v1/vms/{id}/template</c> (VM.Config) marks a stopped VM as a template or not;
/// <c>POST /api/v1/vms/{id}/clone</c> (VM.Allocate) starts a clone and answers 202 with the job, which
/// <c>GET …/clones/{job}</c> follows (VM.Audit) and <c>DELETE …/clones/{job}</c> cancels (VM.Allocate).
/// </summary>
internal static class VmCloneEndpoints
{
    public static RouteGroupBuilder MapVmCloneEndpoints(this RouteGroupBuilder vms)
    {
        vms.MapPost("/{id:guid}/template", SetTemplateAsync).WithName("SetVmTemplate")
            .WithSummary("Make a stopped VM a template ({\"isTemplate\": true}: never started, its disks never change) or an ordinary VM again")
            .RequirePrivilege(Privileges.VmConfig, AuditActions.TemplateSet)
            .Produces<VmResponse>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        vms.MapPost("/{id:guid}/clone", CloneAsync).WithName("CloneVm")
            .WithSummary("Make a new VM of a stopped one ({\"name\": \"…\", \"mode\": \"full\"|\"linked\"}); a full copy runs in the background: follow the job")
            .RequirePrivilege(Privileges.VmAllocate, AuditActions.VmClone)
            .Produces<CloneJobResponse>(StatusCodes.Status202Accepted).ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        vms.MapGet("/{id:guid}/clones/{job:guid}", GetJob).WithName("GetVmCloneJob")
            .WithSummary("A clone's progress: bytes copied of the total, its state, and the new VM once made")
            .RequirePrivilege(Privileges.VmAudit)
            .Produces<CloneJobResponse>().ProducesProblem(StatusCodes.Status404NotFound);
        vms.MapDelete("/{id:guid}/clones/{job:guid}", CancelJob).WithName("CancelVmCloneJob")
            .WithSummary("Cancel a running clone: what it copied is deleted and no VM is made")
            .RequirePrivilege(Privileges.VmAllocate, AuditActions.CloneCancel)
            .Produces(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        return vms;
    }

    private static async Task<IResult> SetTemplateAsync(Guid id, SetTemplateRequest request, VmService vms, IVmRuntime runtime, CancellationToken cancellationToken)
    {
        var result = await vms.SetTemplateAsync(id, request.IsTemplate, cancellationToken);
        return result.Succeeded ? TypedResults.Ok(VmResponse.From(result.Value!, runtime.GetState(id))) : ApiResults.Problem(result);
    }

    private static async Task<IResult> CloneAsync(Guid id, CloneVmRequest request, VmCloneService clones, HttpContext http, CancellationToken cancellationToken)
    {
        if (!Enum.IsDefined(request.Mode))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["mode"] = ["A clone is a full copy (full) or, of a template, linked (linked)."] });
        }

        var result = await clones.StartAsync(id, request.Name ?? "", request.Mode, http.User.Identity?.Name, cancellationToken,
            ownerId: http.User.UserId());
        return result.Succeeded
            ? TypedResults.Accepted($"{ApiEndpoints.Prefix}/vms/{id}/clones/{result.Value!.Id}", CloneJobResponse.From(result.Value))
            : ApiResults.Problem(result);
    }

    private static IResult GetJob(Guid id, Guid job, VmCloneService clones) =>
        clones.Find(id, job) is { } found ? TypedResults.Ok(CloneJobResponse.From(found)) : ApiResults.NotFound("clone of this VM");

    private static IResult CancelJob(Guid id, Guid job, VmCloneService clones)
    {
        var result = clones.Cancel(id, job);
        return result.Succeeded ? TypedResults.Accepted($"{ApiEndpoints.Prefix}/vms/{id}/clones/{job}") : ApiResults.Problem(result);
    }
}
