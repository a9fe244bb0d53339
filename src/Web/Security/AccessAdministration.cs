using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Platform.Web.Data;
using Platform.Web.Services;

namespace Platform.Web.Security;

/// <summary>A user as the administration page lists them.</summary>
public sealed record UserSummary(string Id, string UserName, bool Disabled, bool LockedOut, bool TwoFactor, bool MustChangePassword, IReadOnlyList<string> Groups);

/// <summary>A grant with the names of what it joins.</summary>
public sealed record GrantSummary(Guid Id, string Subject, bool ToGroup, string Path, string? VmName, string Role);

/// <summary>
/// Users, groups, roles and grants for the administration page. Every change says who made it (the audit log gets
/// it, as does a refusal) and ends with <see cref="IPermissionService.Invalidate"/>, so open pages, hub
/// connections and consoles see it within seconds. The caller has checked User.Manage; these methods check the
/// rules (a built-in role cannot change, you cannot lock yourself out).
/// </summary>
public sealed class AccessAdministration(
    UserManager<PlatformUser> users, IDbContextFactory<PlatformDbContext> dbFactory, IPermissionService permissions, IAuditLog audit,
    SignInSessions sessions)
{
    public async Task<IReadOnlyList<UserSummary>> ListUsersAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var groups = await db.AccessGroupMembers.Join(db.AccessGroups, m => m.GroupId, g => g.Id, (m, g) => new { m.UserId, g.Name }).ToListAsync(cancellationToken);
        var list = await db.Users.AsNoTracking().OrderBy(u => u.UserName).ToListAsync(cancellationToken);
        var now = DateTimeOffset.UtcNow;
        return list.Select(u => new UserSummary(u.Id, u.UserName!, u.Disabled, u.LockoutEnd > now, u.TwoFactorEnabled, u.MustChangePassword,
            groups.Where(g => g.UserId == u.Id).Select(g => g.Name).Order(StringComparer.OrdinalIgnoreCase).ToList())).ToList();
    }

    /// <summary>Makes a user with a password someone else chose: they must change it at the first sign-in. The
    /// value is the new user's id.</summary>
    public async Task<ServiceResult<string>> CreateUserAsync(AuditActor actor, string userName, string password)
    {
        var user = new PlatformUser { UserName = (userName ?? "").Trim(), MustChangePassword = true };
        var result = await FinishAsync(actor, AuditActions.UserCreate, $"user {userName}", await users.CreateAsync(user, password ?? ""));
        return result.Succeeded ? ServiceResult<string>.Ok(user.Id) : ServiceResult<string>.From(result);
    }

    public async Task<ServiceResult> SetDisabledAsync(AuditActor actor, string userId, bool disabled)
    {
        if (disabled && userId == actor.UserId)
        {
            return await RefuseAsync(actor, AuditActions.UserUpdate, $"user {userId}", "You cannot disable yourself.");
        }

        var user = await users.FindByIdAsync(userId);
        if (user is null)
        {
            return await RefuseAsync(actor, AuditActions.UserUpdate, $"user {userId}", NoSuchUser, ServiceStatus.NotFound);
        }

        if (disabled && await IsLastAdministratorAsync(userId))
        {
            return await RefuseAsync(actor, AuditActions.UserUpdate, $"user {user.UserName}", LastAdministrator(user.UserName!));
        }

        user.Disabled = disabled;
        var result = await users.UpdateAsync(user);
        if (result.Succeeded)
        {
            // A new stamp ends the user's sessions at their next check (seconds); their session records go at once.
            result = await users.UpdateSecurityStampAsync(user);
            if (disabled)
            {
                await sessions.EndAllAsync(user.Id);
            }
        }

        return await FinishAsync(actor, AuditActions.UserUpdate, $"user {user.UserName}", result, disabled ? "disabled" : "enabled");
    }

    public async Task<ServiceResult> ResetPasswordAsync(AuditActor actor, string userId, string password)
    {
        var user = await users.FindByIdAsync(userId);
        if (user is null)
        {
            return await RefuseAsync(actor, AuditActions.UserResetPassword, $"user {userId}", NoSuchUser, ServiceStatus.NotFound);
        }

        var result = await users.RemovePasswordAsync(user);
        if (result.Succeeded)
        {
            result = await users.AddPasswordAsync(user, password);
        }

        if (result.Succeeded)
        {
            user.MustChangePassword = true;
            await users.SetLockoutEndDateAsync(user, null);
            await users.ResetAccessFailedCountAsync(user);
            result = await users.UpdateAsync(user);
        }

        return await FinishAsync(actor, AuditActions.UserResetPassword, $"user {user.UserName}", result);
    }

    public async Task<ServiceResult> DeleteUserAsync(AuditActor actor, string userId)
    {
        if (userId == actor.UserId)
        {
            return await RefuseAsync(actor, AuditActions.UserDelete, $"user {userId}", "You cannot delete yourself.");
        }

        var user = await users.FindByIdAsync(userId);
        if (user is null)
        {
            return await RefuseAsync(actor, AuditActions.UserDelete, $"user {userId}", NoSuchUser, ServiceStatus.NotFound);
        }

        if (await IsLastAdministratorAsync(userId))
        {
            return await RefuseAsync(actor, AuditActions.UserDelete, $"user {user.UserName}", LastAdministrator(user.UserName!));
        }

        return await FinishAsync(actor, AuditActions.UserDelete, $"user {user.UserName}", await users.DeleteAsync(user));
    }

    public async Task<IReadOnlyList<AccessGroup>> ListGroupsAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.AccessGroups.AsNoTracking().Include(g => g.Members).OrderBy(g => g.Name).ToListAsync(cancellationToken);
    }

    /// <summary>Makes a group; the value is its id.</summary>
    public async Task<ServiceResult<Guid>> CreateGroupAsync(AuditActor actor, string name, string? description)
    {
        var group = new AccessGroup { Name = (name ?? "").Trim(), Description = description };
        var result = await ChangeAsync(actor, AuditActions.GroupCreate, $"group {group.Name}", async db =>
        {
            if (group.Name.Length is 0 or > 64)
            {
                return ServiceResult.Fail(ServiceStatus.Invalid, "A group's name has 1 to 64 characters.");
            }

            if (await db.AccessGroups.AnyAsync(g => g.Name == group.Name))
            {
                return ServiceResult.Fail(ServiceStatus.Invalid, $"A group named {group.Name} exists already.");
            }

            db.AccessGroups.Add(group);
            return ServiceResult.Ok();
        });
        return result.Succeeded ? ServiceResult<Guid>.Ok(group.Id) : ServiceResult<Guid>.From(result);
    }

    public Task<ServiceResult> DeleteGroupAsync(AuditActor actor, Guid groupId) =>
        ChangeAsync(actor, AuditActions.GroupDelete, $"group {groupId}", async db =>
        {
            var group = await db.AccessGroups.FindAsync(groupId);
            if (group is null)
            {
                return ServiceResult.Fail(ServiceStatus.NotFound, "There is no such group.");
            }

            db.AccessGroups.Remove(group);
            return ServiceResult.Ok();
        });

    public Task<ServiceResult> SetMemberAsync(AuditActor actor, Guid groupId, string userId, bool member) =>
        ChangeAsync(actor, AuditActions.GroupUpdate, $"group {groupId}", async db =>
        {
            if (await db.AccessGroups.FindAsync(groupId) is null)
            {
                return ServiceResult.Fail(ServiceStatus.NotFound, "There is no such group.");
            }

            if (!await db.Users.AnyAsync(u => u.Id == userId))
            {
                return ServiceResult.Fail(ServiceStatus.Invalid, "There is no such user.");
            }

            var existing = await db.AccessGroupMembers.FindAsync(groupId, userId);
            if (member && existing is null)
            {
                db.AccessGroupMembers.Add(new AccessGroupMember { GroupId = groupId, UserId = userId });
            }
            else if (!member && existing is not null)
            {
                db.AccessGroupMembers.Remove(existing);
            }

            return ServiceResult.Ok();
        }, member ? $"added user {userId}" : $"removed user {userId}");

    public async Task<IReadOnlyList<AccessRole>> ListRolesAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var roles = await db.AccessRoles.AsNoTracking().ToListAsync(cancellationToken);
        return roles.OrderByDescending(r => r.BuiltIn).ThenBy(r => r.Name, StringComparer.OrdinalIgnoreCase).ToList();
    }

    /// <summary>Creates a custom role, or changes one (<paramref name="roleId"/> set); built-in roles stay as they are.
    /// The value is the role's id.</summary>
    public async Task<ServiceResult<Guid>> SaveRoleAsync(AuditActor actor, Guid? roleId, string name, Privileges privileges, string? description)
    {
        Guid savedId = roleId ?? Guid.NewGuid();
        var result = await ChangeAsync(actor, roleId is null ? AuditActions.RoleCreate : AuditActions.RoleUpdate, $"role {name}", async db =>
        {
            name = (name ?? "").Trim();
            if (name.Length is 0 or > 64)
            {
                return ServiceResult.Fail(ServiceStatus.Invalid, "A role's name has 1 to 64 characters.");
            }

            if (await db.AccessRoles.AnyAsync(r => r.Name == name && r.Id != roleId))
            {
                return ServiceResult.Fail(ServiceStatus.Invalid, $"A role named {name} exists already.");
            }

            if (roleId is { } id)
            {
                var role = await db.AccessRoles.FindAsync(id);
                if (role is null || role.BuiltIn)
                {
                    return ServiceResult.Fail(role is null ? ServiceStatus.NotFound : ServiceStatus.Conflict,
                        role is null ? "There is no such role." : "Built-in roles cannot be changed; make a custom one.");
                }

                role.Name = name;
                role.Privileges = privileges & Privileges.All;
                role.Description = description;
            }
            else
            {
                db.AccessRoles.Add(new AccessRole { Id = savedId, Name = name, Privileges = privileges & Privileges.All, Description = description });
            }

            return ServiceResult.Ok();
        }, PrivilegeNames.Format(privileges));
        return result.Succeeded ? ServiceResult<Guid>.Ok(savedId) : ServiceResult<Guid>.From(result);
    }

    public Task<ServiceResult> DeleteRoleAsync(AuditActor actor, Guid roleId) =>
        ChangeAsync(actor, AuditActions.RoleDelete, $"role {roleId}", async db =>
        {
            var role = await db.AccessRoles.FindAsync(roleId);
            if (role is null)
            {
                return ServiceResult.Fail(ServiceStatus.NotFound, "There is no such role.");
            }

            if (role.BuiltIn)
            {
                return ServiceResult.Fail(ServiceStatus.Conflict, "Built-in roles cannot be deleted.");
            }

            int uses = await db.AccessGrants.CountAsync(g => g.RoleId == roleId);
            if (uses > 0)
            {
                return ServiceResult.Fail(ServiceStatus.Conflict, $"{role.Name} is granted {uses} time(s): remove those grants first.");
            }

            db.AccessRoles.Remove(role);
            return ServiceResult.Ok();
        });

    public async Task<IReadOnlyList<GrantSummary>> ListGrantsAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var grants = await db.AccessGrants.AsNoTracking().Include(g => g.Role).ToListAsync(cancellationToken);
        var userNames = await db.Users.ToDictionaryAsync(u => u.Id, u => u.UserName!, cancellationToken);
        var groupNames = await db.AccessGroups.ToDictionaryAsync(g => g.Id, g => g.Name, cancellationToken);
        var vmNames = await db.VirtualMachines.IgnoreAutoIncludes().ToDictionaryAsync(v => v.Id, v => v.Name, cancellationToken);
        var networkNames = await db.Networks.ToDictionaryAsync(n => n.Id, n => n.Name, cancellationToken);
        return grants
            .Select(g => new GrantSummary(g.Id,
                g.UserId is { } u ? userNames.GetValueOrDefault(u, u) : groupNames.GetValueOrDefault(g.GroupId!.Value, "?"),
                g.GroupId is not null, g.Path,
                g.VmId is { } vm ? vmNames.GetValueOrDefault(vm) : g.NetworkId is { } network ? $"network {networkNames.GetValueOrDefault(network)}" : null,
                g.Role!.Name))
            .OrderBy(g => g.Path, StringComparer.Ordinal).ThenBy(g => g.Subject, StringComparer.OrdinalIgnoreCase).ToList();
    }

    /// <summary>Grants <paramref name="roleId"/> to a user or a group (exactly one) on <c>/</c>, one VM or one network;
    /// the value is the grant's id.</summary>
    public async Task<ServiceResult<Guid>> AddGrantAsync(AuditActor actor, string? userId, Guid? groupId, Guid? vmId, Guid roleId,
        Guid? networkId = null)
    {
        var grant = new AccessGrant { UserId = userId, GroupId = groupId, VmId = vmId, NetworkId = networkId, RoleId = roleId };
        var result = await ChangeAsync(actor, AuditActions.GrantAdd, grant.Path, async db =>
        {
            if ((userId is null) == (groupId is null))
            {
                return ServiceResult.Fail(ServiceStatus.Invalid, "Choose a user or a group.");
            }

            if (vmId is not null && networkId is not null)
            {
                return ServiceResult.Fail(ServiceStatus.Invalid, "A grant is on /, on one VM or on one network.");
            }

            if (networkId is { } network && await db.Networks.FindAsync(network) is null)
            {
                return ServiceResult.Fail(ServiceStatus.Invalid, "That network does not exist.");
            }

            if (await db.AccessRoles.FindAsync(roleId) is null)
            {
                return ServiceResult.Fail(ServiceStatus.Invalid, "Choose a role.");
            }

            if (userId is not null && !await db.Users.AnyAsync(u => u.Id == userId))
            {
                return ServiceResult.Fail(ServiceStatus.Invalid, "There is no such user.");
            }

            if (groupId is { } group && await db.AccessGroups.FindAsync(group) is null)
            {
                return ServiceResult.Fail(ServiceStatus.Invalid, "There is no such group.");
            }

            if (vmId is { } vm && !await db.VirtualMachines.IgnoreAutoIncludes().AnyAsync(v => v.Id == vm))
            {
                return ServiceResult.Fail(ServiceStatus.Invalid, "That VM does not exist.");
            }

            if (await db.AccessGrants.AnyAsync(g => g.UserId == userId && g.GroupId == groupId && g.VmId == vmId && g.NetworkId == networkId && g.RoleId == roleId))
            {
                return ServiceResult.Fail(ServiceStatus.Conflict, "That grant exists already.");
            }

            db.AccessGrants.Add(grant);
            return ServiceResult.Ok();
        }, $"role {roleId} to {(userId is null ? $"group {groupId}" : $"user {userId}")}");
        return result.Succeeded ? ServiceResult<Guid>.Ok(grant.Id) : ServiceResult<Guid>.From(result);
    }

    public Task<ServiceResult> RemoveGrantAsync(AuditActor actor, Guid grantId) =>
        ChangeAsync(actor, AuditActions.GrantRemove, $"grant {grantId}", async db =>
        {
            var grant = await db.AccessGrants.FindAsync(grantId);
            if (grant is null)
            {
                return ServiceResult.Fail(ServiceStatus.NotFound, "There is no such grant.");
            }

            db.AccessGrants.Remove(grant);
            return ServiceResult.Ok();
        });

    /// <summary>
    /// Runs <paramref name="change"/> in a transaction and keeps it only if it leaves someone able to manage users
    /// (unless nobody could before either): removing the last grant, group, membership or role privilege that made
    /// an administrator is refused, because nobody could then undo it from the dashboard.
    /// </summary>
    private async Task<ServiceResult> ChangeAsync(AuditActor actor, string action, string target, Func<PlatformDbContext, Task<ServiceResult>> change, string? detail = null)
    {
        ServiceResult result;
        await using (var db = await dbFactory.CreateDbContextAsync())
        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            int administratorsBefore = await GrantPrecedence.CountAdministratorsAsync(db);
            result = await change(db);
            if (result.Succeeded)
            {
                await db.SaveChangesAsync();
                if (administratorsBefore > 0 && await GrantPrecedence.CountAdministratorsAsync(db) == 0)
                {
                    await transaction.RollbackAsync();
                    result = ServiceResult.Fail(ServiceStatus.Conflict,
                        "That would leave no active user with User.Manage on /, and nobody could undo it: grant Administrator to someone else first.");
                }
                else
                {
                    await transaction.CommitAsync();
                }
            }
        }

        permissions.Invalidate();
        await audit.AddAsync(actor, action, result.Succeeded ? AuditResult.Succeeded : AuditResult.Failed, target: target,
            detail: result.Succeeded ? detail : result.Message);
        return result;
    }

    /// <summary>Whether <paramref name="userId"/> is the only active user who can manage users.</summary>
    private async Task<bool> IsLastAdministratorAsync(string userId)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        int all = await GrantPrecedence.CountAdministratorsAsync(db);
        return all > 0 && await GrantPrecedence.CountAdministratorsAsync(db, except: userId) == 0;
    }

    private static string LastAdministrator(string userName) =>
        $"{userName} is the only active user with User.Manage on /, and nobody could undo it: grant Administrator to someone else first.";

    private const string NoSuchUser = "There is no such user.";

    /// <summary>A change refused before it started: audited like one that failed (the API's filter leaves it to us).</summary>
    private async Task<ServiceResult> RefuseAsync(AuditActor actor, string action, string target, string message, ServiceStatus status = ServiceStatus.Conflict)
    {
        await audit.AddAsync(actor, action, AuditResult.Failed, target: target, detail: message);
        return ServiceResult.Fail(status, message);
    }

    private async Task<ServiceResult> FinishAsync(AuditActor actor, string action, string target, IdentityResult result, string? detail = null)
    {
        permissions.Invalidate();
        string? errors = result.Succeeded ? null : string.Join(" ", result.Errors.Select(e => e.Description));
        await audit.AddAsync(actor, action, result.Succeeded ? AuditResult.Succeeded : AuditResult.Failed, target: target, detail: errors ?? detail);
        return result.Succeeded ? ServiceResult.Ok() : ServiceResult.Fail(ServiceStatus.Invalid, errors!);
    }
}
