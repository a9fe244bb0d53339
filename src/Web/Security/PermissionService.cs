using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Platform.Web.Data;
using Platform.Web.Services;

namespace Platform.Web.Security;

/// <summary>
/// The one place that answers "may this user do that (on that VM)?" for pages, API endpoints, the hub and the
/// console bridges. Answers are cached per user and dropped by <see cref="Invalidate"/>, which every change to users,
/// groups, roles and grants calls; subscribers (open pages, hub connections, consoles) then check again.
/// </summary>
public interface IPermissionService
{
    /// <summary>The user's access now; an API token principal's is cut down to the token's scope.</summary>
    Task<UserAccess> GetAccessAsync(ClaimsPrincipal user, CancellationToken cancellationToken = default);

    /// <summary>Whether <paramref name="user"/> has all of <paramref name="privileges"/> on the VM (on <c>/</c> for null).</summary>
    Task<bool> HasAsync(ClaimsPrincipal user, Privileges privileges, Guid? vmId = null, CancellationToken cancellationToken = default);

    /// <summary>The access of a user by id, as their cookie would have it (no token scope).</summary>
    Task<UserAccess> GetAccessAsync(string userId, CancellationToken cancellationToken = default);

    /// <summary>Forgets every cached answer and tells subscribers that access may have changed.</summary>
    void Invalidate();

    /// <summary>Calls <paramref name="handler"/> after each <see cref="Invalidate"/> until disposed.</summary>
    IDisposable Subscribe(Action handler);
}

/// <summary>Claims the dashboard adds to a principal.</summary>
public static class PlatformClaims
{
    /// <summary>On an API token principal: the token's id.</summary>
    public const string TokenId = "platform:token";

    /// <summary>On an API token principal: the token's privileges as an integer.</summary>
    public const string TokenScope = "platform:scope";

    /// <summary>On a cookie principal whose password must be changed before anything else.</summary>
    public const string MustChangePassword = "platform:must-change-password";

    public static string? UserId(this ClaimsPrincipal user) =>
        user.Identity?.IsAuthenticated == true ? user.FindFirstValue(ClaimTypes.NameIdentifier) : null;

    public static bool IsApiToken(this ClaimsPrincipal user) => user.HasClaim(c => c.Type == TokenId);
}

internal sealed class PermissionService(IDbContextFactory<PlatformDbContext> dbFactory, ILogger<PermissionService> logger) : IPermissionService
{
    private readonly ConcurrentDictionary<string, (long Generation, UserAccess Access)> _cache = new(StringComparer.Ordinal);
    private readonly Subscribers<long> _subscribers = new();
    private long _generation;

    public async Task<UserAccess> GetAccessAsync(ClaimsPrincipal user, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (user.UserId() is not { } userId)
        {
            return UserAccess.None;
        }

        var access = await GetAccessAsync(userId, cancellationToken);
        if (user.FindFirstValue(PlatformClaims.TokenScope) is { } scope)
        {
            access = int.TryParse(scope, System.Globalization.CultureInfo.InvariantCulture, out int mask)
                ? access.Restrict((Privileges)mask)
                : UserAccess.None;
        }

        return access;
    }

    public async Task<bool> HasAsync(ClaimsPrincipal user, Privileges privileges, Guid? vmId = null, CancellationToken cancellationToken = default) =>
        (await GetAccessAsync(user, cancellationToken)).Has(privileges, vmId);

    public async Task<UserAccess> GetAccessAsync(string userId, CancellationToken cancellationToken = default)
    {
        long generation = Interlocked.Read(ref _generation);
        if (_cache.TryGetValue(userId, out var cached) && cached.Generation == generation)
        {
            return cached.Access;
        }

        var access = await LoadAsync(userId, cancellationToken);
        _cache[userId] = (generation, access);
        return access;
    }

    public void Invalidate()
    {
        long generation = Interlocked.Increment(ref _generation);
        _cache.Clear();
        _subscribers.Publish(generation, logger);
    }

    public IDisposable Subscribe(Action handler) => _subscribers.Add(_ => handler());

    private async Task<UserAccess> LoadAsync(string userId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var user = await db.Users.AsNoTracking().Where(u => u.Id == userId)
            .Select(u => new { u.UserName, u.Disabled, u.MustChangePassword }).FirstOrDefaultAsync(cancellationToken);
        if (user is null)
        {
            return UserAccess.None;
        }

        if (user.Disabled || user.MustChangePassword)
        {
            return new UserAccess(userId, user.UserName, Privileges.None, new Dictionary<Guid, Privileges>(), isActive: false);
        }

        var groupIds = await db.AccessGroupMembers.Where(m => m.UserId == userId).Select(m => m.GroupId).ToListAsync(cancellationToken);
        var grants = await db.AccessGrants.AsNoTracking()
            .Where(g => g.UserId == userId || (g.GroupId != null && groupIds.Contains(g.GroupId.Value)))
            .Select(g => new { ToUser = g.UserId != null, g.VmId, g.NetworkId, g.Role!.Privileges })
            .ToListAsync(cancellationToken);
        var root = GrantPrecedence.AtOnePlace(grants.Where(g => g.VmId is null && g.NetworkId is null).Select(g => (g.ToUser, g.Privileges)));
        var vms = grants.Where(g => g.VmId is not null).GroupBy(g => g.VmId!.Value)
            .ToDictionary(g => g.Key, g => GrantPrecedence.AtOnePlace(g.Select(x => (x.ToUser, x.Privileges))));
        var networks = grants.Where(g => g.NetworkId is not null).GroupBy(g => g.NetworkId!.Value)
            .ToDictionary(g => g.Key, g => GrantPrecedence.AtOnePlace(g.Select(x => (x.ToUser, x.Privileges))));
        return new UserAccess(userId, user.UserName, root, vms, networks: networks);
    }
}
