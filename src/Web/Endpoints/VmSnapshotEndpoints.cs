using Platform.Web.Security;
using Platform.Web.Services.Disks;

namespace Platform.Web.Endpoints;

public sealed record CreateSnapshotRequest(string? Name);

public sealed record VmSnapshotResponse(string Name, DateTimeOffset CreatedAt, string? CreatedBy, int Disks, long VirtualSizeBytes, long VmStateSizeBytes)
{
    public static VmSnapshotResponse From(VmSnapshotInfo s) => new(s.Name, s.CreatedAt, s.CreatedBy, s.Disks, s.VirtualSizeBytes, s.VmStateSizeBytes);
}

/// <summary>
/// <c>/api/v1/vms/{id}/snapshots</c>: list (VM.Audit), take, revert and delete (VM.Snapshot, the VM stopped: 409
/// otherwise) through <see cref="VmSnapshotService"/>; each change is in the audit log.
/// </summary>
internal static class VmSnapshotEndpoints
{
    public static RouteGroupBuilder MapVmSnapshotEndpoints(this RouteGroupBuilder vms)
    {
        vms.MapGet("/{id:guid}/snapshots", ListAsync).WithName("ListVmSnapshots")
            .WithSummary("The VM's disk snapshots, with when and by whom they were taken")
            .RequirePrivilege(Privileges.VmAudit)
            .Produces<List<VmSnapshotResponse>>().ProducesProblem(StatusCodes.Status404NotFound);
        vms.MapPost("/{id:guid}/snapshots", CreateAsync).WithName("CreateVmSnapshot")
            .WithSummary("Take a snapshot of the stopped VM's qcow2 disks ({\"name\": \"…\"})")
            .RequirePrivilege(Privileges.VmSnapshot, AuditActions.SnapshotCreate)
            .Produces<VmSnapshotResponse>(StatusCodes.Status201Created).ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        vms.MapPost("/{id:guid}/snapshots/{name}/revert", RevertAsync).WithName("RevertVmSnapshot")
            .WithSummary("Put the stopped VM's disks back as they were at the snapshot (later writes are lost)")
            .RequirePrivilege(Privileges.VmSnapshot, AuditActions.SnapshotRevert)
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        vms.MapDelete("/{id:guid}/snapshots/{name}", DeleteAsync).WithName("DeleteVmSnapshot")
            .WithSummary("Delete a snapshot of the stopped VM")
            .RequirePrivilege(Privileges.VmSnapshot, AuditActions.SnapshotDelete)
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        return vms;
    }

    private static async Task<IResult> ListAsync(Guid id, VmSnapshotService snapshots, CancellationToken cancellationToken)
    {
        var result = await snapshots.ListAsync(id, cancellationToken);
        return result.Succeeded ? TypedResults.Ok(result.Value!.Select(VmSnapshotResponse.From).ToList()) : ApiResults.Problem(result);
    }

    private static async Task<IResult> CreateAsync(Guid id, CreateSnapshotRequest request, VmSnapshotService snapshots, HttpContext http, CancellationToken cancellationToken)
    {
        var result = await snapshots.CreateAsync(id, request.Name?.Trim(), http.User.Identity?.Name, cancellationToken);
        return result.Succeeded
            ? TypedResults.Created($"{ApiEndpoints.Prefix}/vms/{id}/snapshots/{Uri.EscapeDataString(result.Value!.Name)}", VmSnapshotResponse.From(result.Value))
            : ApiResults.Problem(result);
    }

    private static async Task<IResult> RevertAsync(Guid id, string name, VmSnapshotService snapshots, CancellationToken cancellationToken)
    {
        var result = await snapshots.RevertAsync(id, name, cancellationToken);
        return result.Succeeded ? TypedResults.NoContent() : ApiResults.Problem(result);
    }

    private static async Task<IResult> DeleteAsync(Guid id, string name, VmSnapshotService snapshots, CancellationToken cancellationToken)
    {
        var result = await snapshots.DeleteAsync(id, name, cancellationToken);
        return result.Succeeded ? TypedResults.NoContent() : ApiResults.Problem(result);
    }
}
