using Microsoft.EntityFrameworkCore;
using Platform.Web.Data;
using Platform.Web.Security;

namespace Platform.Web.Services.Quotas;

/// <summary>
/// The start-up fix-up for VMs made before quotas (or before a VM recorded who made it): a VM with no owner counts
/// against nobody's quota, so each gets one — the user who created it, as the audit log's successful <c>VM.Create</c>
/// for that VM says, when that user still exists; else the first administrator (the earliest user holding the
/// Administrator role on <c>/</c>, directly or through a group). Each assignment is audited as <c>VM.OwnerAssign</c>
/// with where the owner came from. Runs once per start and finds nothing to do once every VM has an owner.
/// </summary>
internal sealed partial class OwnerlessVms(IDbContextFactory<PlatformDbContext> dbFactory, IAuditLog audit, ILogger<OwnerlessVms> logger)
{
    private static readonly AuditActor StartUp = new(null, "(start-up)", null);

    /// <summary>Gives every ownerless VM an owner; returns how many were given one.</summary>
    public async Task<int> AssignAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var ownerless = await db.VirtualMachines.Where(vm => vm.OwnerId == null).ToListAsync(cancellationToken);
        if (ownerless.Count == 0)
        {
            return 0;
        }

        var users = await db.Users.AsNoTracking().Select(u => new { u.Id, u.UserName, u.CreatedAt }).ToListAsync(cancellationToken);
        var names = users.ToDictionary(u => u.Id, u => u.UserName ?? u.Id);
        var creators = await CreatorsAsync(db, ownerless.Select(vm => vm.Id).ToList(), cancellationToken);
        string? administrator = await FirstAdministratorAsync(db, cancellationToken);
        var assigned = new List<(VirtualMachine Vm, string Owner, string Why)>();
        foreach (var vm in ownerless)
        {
            string? creator = creators.GetValueOrDefault(vm.Id);
            string? owner = creator is not null && names.ContainsKey(creator) ? creator : administrator;
            if (owner is null)
            {
                continue; // No administrator yet (an empty database): the next start does it.
            }

            vm.OwnerId = owner;
            assigned.Add((vm, owner, owner == creator
                ? "it had no owner (made before quotas); its creator, from the audit log"
                : "it had no owner (made before quotas) and the audit log names no creator who still exists; the first administrator"));
        }

        await db.SaveChangesAsync(cancellationToken);
        foreach (var (vm, owner, why) in assigned)
        {
            Log.Assigned(logger, vm.Name, names[owner], why);
            await audit.AddAsync(StartUp, AuditActions.VmOwnerAssign, AuditResult.Succeeded, vm.Id, $"user {names[owner]}", why);
        }

        return assigned.Count;
    }

    /// <summary>Who created each of <paramref name="vmIds"/>, from the first successful VM.Create entry naming it.</summary>
    private static async Task<Dictionary<Guid, string>> CreatorsAsync(PlatformDbContext db, List<Guid> vmIds, CancellationToken cancellationToken)
    {
        var entries = await db.AuditLog.AsNoTracking()
            .Where(e => e.Action == AuditActions.VmCreate && e.Result == AuditResult.Succeeded && e.VmId != null && e.UserId != null && vmIds.Contains(e.VmId.Value))
            .Select(e => new { e.Id, VmId = e.VmId!.Value, UserId = e.UserId! })
            .ToListAsync(cancellationToken);
        return entries.GroupBy(e => e.VmId).ToDictionary(g => g.Key, g => g.OrderBy(e => e.Id).First().UserId);
    }

    /// <summary>The earliest-made user with the Administrator role on <c>/</c>, granted to them or to a group of theirs.</summary>
    private static async Task<string?> FirstAdministratorAsync(PlatformDbContext db, CancellationToken cancellationToken)
    {
        var grants = await db.AccessGrants.AsNoTracking()
            .Where(g => g.RoleId == BuiltInRoles.AdministratorId && g.VmId == null && g.NetworkId == null)
            .Select(g => new { g.UserId, g.GroupId })
            .ToListAsync(cancellationToken);
        var groups = grants.Where(g => g.GroupId != null).Select(g => g.GroupId!.Value).ToList();
        var members = await db.AccessGroupMembers.AsNoTracking().Where(m => groups.Contains(m.GroupId)).Select(m => m.UserId).ToListAsync(cancellationToken);
        var candidates = grants.Where(g => g.UserId != null).Select(g => g.UserId!).Concat(members).ToHashSet(StringComparer.Ordinal);
        var users = await db.Users.AsNoTracking().Select(u => new { u.Id, u.CreatedAt, u.Disabled }).ToListAsync(cancellationToken);
        return users.Where(u => candidates.Contains(u.Id)).OrderBy(u => u.Disabled).ThenBy(u => u.CreatedAt).Select(u => u.Id).FirstOrDefault();
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Information, "VM {Name} now belongs to {Owner}, so it counts against their quotas: {Why}")]
        public static partial void Assigned(ILogger logger, string name, string owner, string why);
    }
}
