using Platform.Web.Data;
using Platform.Web.Security;

namespace Platform.Web.Services.Quotas;

/// <summary>A user's or group's place in the quota overview: its quota (null: none) and what it uses now.</summary>
public sealed record QuotaHolder(string? UserId, Guid? GroupId, string Name, ResourceQuota? Quota, QuotaAmounts Used)
{
    public bool IsGroup => GroupId is not null;
}

/// <summary>
/// Setting and removing quotas, audited as <c>Quota.Set</c>/<c>Quota.Remove</c> with what was set: one path for the
/// REST API and the administrators' page, so both say and record the same. The caller has checked User.Manage.
/// </summary>
public sealed class QuotaAdministration(QuotaService quotas, IAuditLog audit)
{
    public async Task<ServiceResult<ResourceQuota>> SetAsync(AuditActor actor, ResourceQuota wanted, CancellationToken cancellationToken)
    {
        var result = await quotas.SetAsync(wanted, cancellationToken);
        await audit.AddAsync(actor, AuditActions.QuotaSet, result.Succeeded ? AuditResult.Succeeded : AuditResult.Failed, null, Target(wanted.UserId, wanted.GroupId),
            result.Succeeded ? Describe(wanted) : result.Message);
        return result;
    }

    public async Task<bool> RemoveAsync(AuditActor actor, string? userId, Guid? groupId, CancellationToken cancellationToken)
    {
        bool removed = await quotas.RemoveAsync(userId, groupId, cancellationToken);
        await audit.AddAsync(actor, AuditActions.QuotaRemove, removed ? AuditResult.Succeeded : AuditResult.Failed, null, Target(userId, groupId),
            removed ? null : "no such quota");
        return removed;
    }

    private static string Target(string? userId, Guid? groupId) => userId is not null ? $"user {userId}" : $"group {groupId}";

    /// <summary>"VMs 4, vCPUs none, memory 8192 MiB, …": what the audit entry says was set.</summary>
    private static string Describe(ResourceQuota q) =>
        $"VMs {Or(q.MaxVms)}, vCPUs {Or(q.MaxVcpus)}, memory {Or(q.MaxMemoryMiB, " MiB")}, disk {Or(q.MaxDiskBytes, " B")}, images {Or(q.MaxImageBytes, " B")}";

    private static string Or(long? value, string unit = "") => value is { } v ? FormattableString.Invariant($"{v}{unit}") : "none";
}
