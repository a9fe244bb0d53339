using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services.Quotas;

namespace Platform.Web.Endpoints;

/// <summary>A quota as listed: its holder, its maximums (null: none) and what the holder uses now.</summary>
public sealed record QuotaResponse(
    string? UserId, Guid? GroupId, string Holder, int? MaxVms, int? MaxVcpus, long? MaxMemoryMiB, long? MaxDiskBytes, long? MaxImageBytes,
    int UsedVms, int UsedVcpus, long UsedMemoryMiB, long UsedDiskBytes, long UsedImageBytes)
{
    public static QuotaResponse From(QuotaStatus s) => new(
        s.Quota.UserId, s.Quota.GroupId, s.HolderName, s.Quota.MaxVms, s.Quota.MaxVcpus, s.Quota.MaxMemoryMiB, s.Quota.MaxDiskBytes, s.Quota.MaxImageBytes,
        s.Used.Vms, s.Used.Vcpus, s.Used.MemoryMiB, s.Used.DiskBytes, s.Used.ImageBytes);
}

/// <summary>A quota's maximums; a null (or missing) one is no limit.</summary>
public sealed record SetQuotaRequest(int? MaxVms, int? MaxVcpus, long? MaxMemoryMiB, long? MaxDiskBytes, long? MaxImageBytes);

/// <summary>
/// Quotas per user and per group (User.Manage on <c>/</c> sets them; Sys.Audit or User.Manage lists them with their
/// use), audited. Creating or growing past one is refused by the service that does it (<see cref="QuotaService.CheckAsync"/>).
/// </summary>
internal static class QuotaEndpoints
{
    public static RouteGroupBuilder MapQuotaEndpoints(this RouteGroupBuilder quotas)
    {
        quotas.MapGet("/", async (QuotaService service, CancellationToken cancellationToken) =>
                TypedResults.Ok((await service.ListAsync(cancellationToken)).Select(QuotaResponse.From).ToList()))
            .WithName("ListQuotas").WithSummary("Every quota with what its user or group uses now (Sys.Audit or User.Manage)")
            .RequireAnyPrivilege(Privileges.SysAudit | Privileges.UserManage);
        quotas.MapPut("/users/{userId}", (string userId, SetQuotaRequest request, QuotaAdministration admin, QuotaService service, HttpContext http, CancellationToken cancellationToken) =>
                SetAsync(new ResourceQuota { UserId = userId }, request, admin, service, http, cancellationToken))
            .WithName("SetUserQuota").WithSummary("Set a user's quota (User.Manage)")
            .RequireUserManage();
        quotas.MapPut("/groups/{groupId:guid}", (Guid groupId, SetQuotaRequest request, QuotaAdministration admin, QuotaService service, HttpContext http, CancellationToken cancellationToken) =>
                SetAsync(new ResourceQuota { GroupId = groupId }, request, admin, service, http, cancellationToken))
            .WithName("SetGroupQuota").WithSummary("Set a group's quota, for its members together (User.Manage)")
            .RequireUserManage();
        quotas.MapDelete("/users/{userId}", (string userId, QuotaAdministration admin, HttpContext http, CancellationToken cancellationToken) =>
                RemoveAsync(userId, null, admin, http, cancellationToken))
            .WithName("RemoveUserQuota").WithSummary("Remove a user's quota (User.Manage)")
            .RequireUserManage();
        quotas.MapDelete("/groups/{groupId:guid}", (Guid groupId, QuotaAdministration admin, HttpContext http, CancellationToken cancellationToken) =>
                RemoveAsync(null, groupId, admin, http, cancellationToken))
            .WithName("RemoveGroupQuota").WithSummary("Remove a group's quota (User.Manage)")
            .RequireUserManage();
        return quotas;
    }

    private static async Task<IResult> SetAsync(
        ResourceQuota quota, SetQuotaRequest request, QuotaAdministration admin, QuotaService service, HttpContext http, CancellationToken cancellationToken)
    {
        quota.MaxVms = request.MaxVms;
        quota.MaxVcpus = request.MaxVcpus;
        quota.MaxMemoryMiB = request.MaxMemoryMiB;
        quota.MaxDiskBytes = request.MaxDiskBytes;
        quota.MaxImageBytes = request.MaxImageBytes;
        var result = await admin.SetAsync(AuditActor.From(http), quota, cancellationToken);
        if (!result.Succeeded)
        {
            return ApiResults.Problem(result);
        }

        var status = (await service.ListAsync(cancellationToken)).First(s => s.Quota.UserId == quota.UserId && s.Quota.GroupId == quota.GroupId);
        return TypedResults.Ok(QuotaResponse.From(status));
    }

    private static async Task<IResult> RemoveAsync(string? userId, Guid? groupId, QuotaAdministration admin, HttpContext http, CancellationToken cancellationToken) =>
        await admin.RemoveAsync(AuditActor.From(http), userId, groupId, cancellationToken) ? TypedResults.NoContent() : ApiResults.NotFound("quota");
}
