using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Platform.Web.Data;

namespace Platform.Web.Security;

/// <summary>Who acts, as the audit log records it: the user (null when nobody is signed in) and the client's address.</summary>
public sealed record AuditActor(string? UserId, string? UserName, string? RemoteAddress)
{
    public static AuditActor From(ClaimsPrincipal user, string? remoteAddress) => new(
        user.UserId(),
        user.Identity?.IsAuthenticated == true
            ? user.Identity.Name + (user.FindFirstValue(PlatformClaims.TokenId) is { } token ? $" (token {token[..8]})" : "")
            : null,
        remoteAddress);

    public static AuditActor From(HttpContext http) => From(http.User, http.Connection.RemoteIpAddress?.ToString());
}

/// <summary>A filter over the audit log; every part is optional. <see cref="Take"/> is at most 500.</summary>
public sealed record AuditQuery
{
    /// <summary>Entries whose user name contains this (case-insensitive).</summary>
    public string? UserName { get; init; }

    /// <summary>Entries whose action starts with this (<c>VM.</c> for every VM action).</summary>
    public string? Action { get; init; }

    public Guid? VmId { get; init; }

    public AuditResult? Result { get; init; }

    public DateTimeOffset? From { get; init; }

    public DateTimeOffset? To { get; init; }

    /// <summary>Only entries about VMs this says the reader may see (and those about no VM); null: every entry.</summary>
    public VmVisibility? Visibility { get; init; }

    public int Skip { get; init; }

    public int Take { get; init; } = 50;
}

public sealed record AuditPage(IReadOnlyList<AuditEntry> Items, int Total);

/// <summary>
/// The audit log: append and read, nothing else (there is deliberately no update or delete). Writing never throws
/// into the action it records: a failure to write is logged as an error.
/// </summary>
public interface IAuditLog
{
    Task AddAsync(AuditEntry entry, CancellationToken cancellationToken = default);

    Task<AuditPage> ListAsync(AuditQuery query, CancellationToken cancellationToken = default);
}

/// <summary>The actions the dashboard writes to the audit log.</summary>
public static class AuditActions
{
    public const string SignIn = "SignIn";
    public const string SignOut = "SignOut";
    public const string PasswordChange = "Account.PasswordChange";
    public const string TwoFactorEnable = "Account.TwoFactorEnable";
    public const string TwoFactorDisable = "Account.TwoFactorDisable";
    public const string TokenCreate = "Token.Create";
    public const string TokenRevoke = "Token.Revoke";
    public const string UserCreate = "User.Create";
    public const string UserUpdate = "User.Update";
    public const string UserDelete = "User.Delete";
    public const string UserResetPassword = "User.ResetPassword";
    public const string GroupCreate = "Group.Create";
    public const string GroupUpdate = "Group.Update";
    public const string GroupDelete = "Group.Delete";
    public const string RoleCreate = "Role.Create";
    public const string RoleUpdate = "Role.Update";
    public const string RoleDelete = "Role.Delete";
    public const string GrantAdd = "Grant.Add";
    public const string GrantRemove = "Grant.Remove";
    public const string QuotaSet = "Quota.Set";
    public const string QuotaRemove = "Quota.Remove";
    public const string VmCreate = "VM.Create";
    public const string VmUpdate = "VM.Update";
    public const string VmDelete = "VM.Delete";
    public const string VmOwnerAssign = "VM.OwnerAssign";
    public const string VmView = "VM.View";
    public const string DiskAdd = "VM.DiskAdd";
    public const string DiskDetach = "VM.DiskDetach";
    public const string DiskUpdate = "VM.DiskUpdate";
    public const string DiskResize = "VM.DiskResize";
    public const string DiskReorder = "VM.DiskReorder";
    public const string CdromInsert = "VM.CdromInsert";
    public const string CdromEject = "VM.CdromEject";
    public const string NicLink = "VM.NicLink";
    public const string SnapshotCreate = "VM.SnapshotCreate";
    public const string SnapshotRevert = "VM.SnapshotRevert";
    public const string SnapshotDelete = "VM.SnapshotDelete";
    public const string CloudInitUpdate = "VM.CloudInitUpdate";
    public const string VmClone = "VM.Clone";
    public const string CloneCancel = "VM.CloneCancel";
    public const string TemplateSet = "VM.TemplateSet";
    public const string ConsoleTicket = "VM.ConsoleTicket";
    public const string ConsoleOpen = "VM.ConsoleOpen";
    public const string ConsoleClosed = "VM.ConsoleClosed";
    public const string ImageUpload = "Image.Upload";
    public const string ImageDelete = "Image.Delete";
    public const string NetworkCreate = "Network.Create";
    public const string NetworkDelete = "Network.Delete";
    public const string HubCall = "Hub.";
    public const string ApiRequest = "Api.Request";

    /// <summary>A bearer token that is unknown, revoked, expired, or whose user is disabled.</summary>
    public const string ApiAuthenticate = "Api.Authenticate";

    /// <summary>A WebSocket or hub request whose Origin is another site's.</summary>
    public const string CrossOrigin = "Web.CrossOrigin";

    /// <summary><c>VM.Start</c>, <c>VM.Shutdown</c>… for a power action.</summary>
    public static string Power(string action) => "VM." + action;
}

internal sealed partial class AuditLog(IDbContextFactory<PlatformDbContext> dbFactory, ILogger<AuditLog> logger) : IAuditLog
{
    public const int MaxPageSize = 500;

    public async Task AddAsync(AuditEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        entry.UserName = Cut(entry.UserName, 256);
        entry.Target = Cut(entry.Target, 256);
        entry.Detail = Cut(entry.Detail, 1024);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
            db.AuditLog.Add(entry);
            await db.SaveChangesAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is DbUpdateException or InvalidOperationException or System.Data.Common.DbException)
        {
            Log.WriteFailed(logger, ex, entry.Action, entry.UserName, entry.Result);
        }
    }

    public async Task<AuditPage> ListAsync(AuditQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var entries = db.AuditLog.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(query.UserName))
        {
            // LIKE in SQLite ignores ASCII case, which user names are.
            string pattern = "%" + query.UserName.Trim().Replace("\\", "\\\\", StringComparison.Ordinal)
                .Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%";
            entries = entries.Where(e => e.UserName != null && EF.Functions.Like(e.UserName, pattern, "\\"));
        }

        if (!string.IsNullOrWhiteSpace(query.Action))
        {
            string action = query.Action.Trim();
            entries = entries.Where(e => e.Action.StartsWith(action));
        }

        if (query.VmId is { } vmId)
        {
            entries = entries.Where(e => e.VmId == vmId);
        }

        if (query.Visibility is { } visibility)
        {
            // As the event log: every VM but the exceptions, or only the exceptions; entries about no VM stay.
            var exceptions = visibility.Exceptions.ToList();
            entries = visibility.ByDefault
                ? entries.Where(e => e.VmId == null || !exceptions.Contains(e.VmId.Value))
                : entries.Where(e => e.VmId == null || exceptions.Contains(e.VmId.Value));
        }

        if (query.Result is { } result)
        {
            entries = entries.Where(e => e.Result == result);
        }

        if (query.From is { } from)
        {
            entries = entries.Where(e => e.At >= from);
        }

        if (query.To is { } to)
        {
            entries = entries.Where(e => e.At <= to);
        }

        int total = await entries.CountAsync(cancellationToken);
        var items = await entries.OrderByDescending(e => e.Id)
            .Skip(Math.Max(0, query.Skip)).Take(Math.Clamp(query.Take, 1, MaxPageSize)).ToListAsync(cancellationToken);
        return new AuditPage(items, total);
    }

    private static string? Cut(string? text, int max) => text is { Length: > 0 } && text.Length > max ? text[..max] : text;

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Error, "Could not write the audit entry {Action} by {User} ({Result})")]
        public static partial void WriteFailed(ILogger logger, Exception exception, string action, string? user, AuditResult result);
    }
}

/// <summary>Shorthands for writing an entry.</summary>
public static class AuditLogExtensions
{
    public static Task AddAsync(this IAuditLog log, AuditActor actor, string action, AuditResult result,
        Guid? vmId = null, string? target = null, string? detail = null)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(actor);
        return log.AddAsync(new AuditEntry
        {
            UserId = actor.UserId, UserName = actor.UserName, RemoteAddress = actor.RemoteAddress,
            Action = action, Result = result, VmId = vmId, Target = target, Detail = detail,
        });
    }
}
