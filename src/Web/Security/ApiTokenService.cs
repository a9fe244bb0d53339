using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Platform.Web.Data;
using Platform.Web.Services;

namespace Platform.Web.Security;

/// <summary>A token just made: <see cref="Secret"/> is the only time the token text exists outside its owner's hands.</summary>
public sealed record CreatedApiToken(ApiToken Token, string Secret);

/// <summary>
/// Per-user API tokens: made with a name, an optional expiry and a subset of the owner's privileges; stored as a
/// SHA-256 hash; revocable by their owner (and by a user manager). A token never does more than its owner can at
/// the time of the request.
/// </summary>
public sealed class ApiTokenService(IDbContextFactory<PlatformDbContext> dbFactory, IPermissionService permissions, TimeProvider time)
{
    /// <summary>What every token starts with, so secret scanners and people can recognise one.</summary>
    public const string TokenPrefix = "plt_";

    public async Task<IReadOnlyList<ApiToken>> ListAsync(string userId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var tokens = await db.ApiTokens.AsNoTracking().Where(t => t.UserId == userId).ToListAsync(cancellationToken);
        return tokens.OrderByDescending(t => t.CreatedAt).ToList();
    }

    /// <summary>Makes a token for <paramref name="userId"/> with at most the privileges the user has somewhere now.</summary>
    public async Task<ServiceResult<CreatedApiToken>> CreateAsync(
        string userId, string name, Privileges privileges, DateTimeOffset? expiresAt, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        name = name?.Trim() ?? "";
        if (name.Length is 0 or > 64)
        {
            errors["name"] = ["Give the token a name of 1 to 64 characters, saying what uses it."];
        }

        var owner = await permissions.GetAccessAsync(userId, cancellationToken);
        var beyond = privileges & ~owner.Anywhere;
        if (privileges == Privileges.None)
        {
            errors["privileges"] = ["Choose at least one privilege."];
        }
        else if (beyond != Privileges.None)
        {
            errors["privileges"] = [$"You do not have {PrivilegeNames.Format(beyond)}, so a token of yours cannot."];
        }

        if (expiresAt is { } expiry && expiry <= time.GetUtcNow())
        {
            errors["expiresAt"] = ["The expiry must be in the future."];
        }

        if (errors.Count > 0)
        {
            return ServiceResult<CreatedApiToken>.Invalid(errors);
        }

        string secret = TokenPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        var token = new ApiToken
        {
            UserId = userId, Name = name, Hash = Hash(secret), Prefix = secret[..(TokenPrefix.Length + 6)],
            Privileges = privileges, ExpiresAt = expiresAt, CreatedAt = time.GetUtcNow(),
        };
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        db.ApiTokens.Add(token);
        await db.SaveChangesAsync(cancellationToken);
        return ServiceResult<CreatedApiToken>.Ok(new CreatedApiToken(token, secret));
    }

    /// <summary>Revokes a token of <paramref name="userId"/> (any user's when <paramref name="userId"/> is null).</summary>
    public async Task<ServiceResult<ApiToken>> RevokeAsync(Guid tokenId, string? userId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var token = await db.ApiTokens.FirstOrDefaultAsync(t => t.Id == tokenId && (userId == null || t.UserId == userId), cancellationToken);
        if (token is null)
        {
            return ServiceResult<ApiToken>.Fail(ServiceStatus.NotFound, "There is no such token.");
        }

        token.RevokedAt ??= time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        permissions.Invalidate();
        return ServiceResult<ApiToken>.Ok(token);
    }

    /// <summary>The principal a bearer token stands for, or null when it is unknown, revoked, expired or its owner
    /// is disabled. Records when it was last used (at most once a minute).</summary>
    public async Task<ClaimsPrincipal?> AuthenticateAsync(string secret, string scheme, CancellationToken cancellationToken)
    {
        if (!secret.StartsWith(TokenPrefix, StringComparison.Ordinal) || secret.Length > 128)
        {
            return null;
        }

        string hash = Hash(secret);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var found = await db.ApiTokens.Where(t => t.Hash == hash)
            .Join(db.Users, t => t.UserId, u => u.Id, (t, u) => new { Token = t, u.UserName, u.Disabled })
            .FirstOrDefaultAsync(cancellationToken);
        var now = time.GetUtcNow();
        if (found is null || found.Disabled || !found.Token.IsActive(now)
            || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(found.Token.Hash), Encoding.ASCII.GetBytes(hash)))
        {
            return null;
        }

        if (found.Token.LastUsedAt is not { } last || now - last > TimeSpan.FromMinutes(1))
        {
            found.Token.LastUsedAt = now;
            await db.SaveChangesAsync(cancellationToken);
        }

        var identity = new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, found.Token.UserId),
            new Claim(ClaimTypes.Name, found.UserName ?? ""),
            new Claim(PlatformClaims.TokenId, found.Token.Id.ToString("N")),
            new Claim(PlatformClaims.TokenScope, ((int)found.Token.Privileges).ToString(CultureInfo.InvariantCulture)),
        ], scheme, ClaimTypes.Name, ClaimTypes.Role);
        return new ClaimsPrincipal(identity);
    }

    internal static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
