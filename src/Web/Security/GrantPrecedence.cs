using Microsoft.EntityFrameworkCore;
using Platform.Web.Data;

namespace Platform.Web.Security;

/// <summary>
/// How grants at one place combine, shared by <see cref="PermissionService"/> (what a user may do) and
/// <see cref="AccessAdministration"/> (whether a change would leave nobody able to manage users).
/// </summary>
internal static class GrantPrecedence
{
    /// <summary>At one place, the user's own grants replace their groups'; roles granted side by side add up.</summary>
    public static Privileges AtOnePlace(IEnumerable<(bool ToUser, Privileges Privileges)> grants)
    {
        var list = grants.ToList();
        var chosen = list.Any(g => g.ToUser) ? list.Where(g => g.ToUser) : list;
        return chosen.Aggregate(Privileges.None, (all, g) => all | g.Privileges);
    }

    /// <summary>
    /// The users, not disabled, who hold User.Manage on <c>/</c> as <paramref name="db"/> sees the grants now (its
    /// own uncommitted changes included), leaving out <paramref name="except"/>. A user who must still change their
    /// password counts: they can sign in and do it.
    /// </summary>
    public static async Task<int> CountAdministratorsAsync(PlatformDbContext db, string? except = null)
    {
        var users = await db.Users.AsNoTracking().Where(u => !u.Disabled && u.Id != except).Select(u => u.Id).ToListAsync();
        var memberships = await db.AccessGroupMembers.AsNoTracking().ToListAsync();
        var rootGrants = await db.AccessGrants.AsNoTracking().Where(g => g.VmId == null)
            .Select(g => new { g.UserId, g.GroupId, g.Role!.Privileges }).ToListAsync();
        return users.Count(userId =>
        {
            var groups = memberships.Where(m => m.UserId == userId).Select(m => m.GroupId).ToHashSet();
            var grants = rootGrants
                .Where(g => g.UserId == userId || (g.GroupId is { } group && groups.Contains(group)))
                .Select(g => (g.UserId is not null, g.Privileges));
            return (AtOnePlace(grants) & Privileges.UserManage) != 0;
        });
    }
}
