using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.EntityFrameworkCore;
using Platform.Web.Data;

namespace Platform.Web.Security;

/// <summary>
/// The session cookie's server side (the cookie handler's <see cref="ITicketStore"/>): each sign-in is a
/// <see cref="SignInSession"/> row and the cookie names only its key. Sign-out deletes the row, so a copied cookie
/// stops working at once; <see cref="EndAllAsync"/> is "sign out everywhere". Every request reads the row (SQLite,
/// by primary key); open pages, hubs and consoles ask <see cref="IsCurrentAsync"/> on their recheck.
/// </summary>
public sealed class SignInSessions(IDbContextFactory<PlatformDbContext> dbFactory, TimeProvider clock) : ITicketStore
{
    /// <summary>The claim that carries the session's key inside the ticket, so a circuit or hub can name its session.</summary>
    public const string KeyClaim = "platform.session";

    public async Task<string> StoreAsync(AuthenticationTicket ticket)
    {
        string key = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        var now = clock.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync();
        // Sessions that expired are forgotten whenever a new one begins.
        await db.SignInSessions.Where(s => s.ExpiresAt != null && s.ExpiresAt < now).ExecuteDeleteAsync();
        db.SignInSessions.Add(new SignInSession
        {
            Key = key, UserId = UserIdOf(ticket), Ticket = Serialize(ticket, key), CreatedAt = now, ExpiresAt = ticket.Properties.ExpiresUtc,
        });
        await db.SaveChangesAsync();
        return key;
    }

    public async Task RenewAsync(string key, AuthenticationTicket ticket)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        // A session ended meanwhile stays ended: renewing never brings a deleted row back.
        await db.SignInSessions.Where(s => s.Key == key).ExecuteUpdateAsync(set => set
            .SetProperty(s => s.Ticket, Serialize(ticket, key))
            .SetProperty(s => s.ExpiresAt, ticket.Properties.ExpiresUtc));
    }

    public async Task<AuthenticationTicket?> RetrieveAsync(string key)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        var session = await db.SignInSessions.AsNoTracking().FirstOrDefaultAsync(s => s.Key == key);
        if (session is null || session.ExpiresAt < clock.GetUtcNow())
        {
            return null;
        }

        return TicketSerializer.Default.Deserialize(session.Ticket);
    }

    public async Task RemoveAsync(string key)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        await db.SignInSessions.Where(s => s.Key == key).ExecuteDeleteAsync();
    }

    /// <summary>Ends every session of the user (sign out everywhere, a disabled account).</summary>
    public async Task<int> EndAllAsync(string userId)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        return await db.SignInSessions.Where(s => s.UserId == userId).ExecuteDeleteAsync();
    }

    /// <summary>
    /// False when <paramref name="user"/> came from a session cookie whose session has ended, or from an API token that
    /// has been revoked or has expired since; true for other principals.
    /// </summary>
    public async Task<bool> IsCurrentAsync(ClaimsPrincipal user, CancellationToken cancellationToken = default)
    {
        if (user.FindFirstValue(PlatformClaims.TokenId) is { } tokenClaim
            && Guid.TryParseExact(tokenClaim, "N", out var tokenId))
        {
            // An API token's connection (an event stream, a hub, a console) lasts only as long as its token: revoked
            // or expired, the next recheck ends it, as signing out ends a browser's.
            await using var tokens = await dbFactory.CreateDbContextAsync(cancellationToken);
            var token = await tokens.ApiTokens.AsNoTracking().FirstOrDefaultAsync(t => t.Id == tokenId, cancellationToken);
            return token?.IsActive(clock.GetUtcNow()) == true;
        }

        if (user.FindFirstValue(KeyClaim) is not { } key)
        {
            return true;
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = clock.GetUtcNow();
        return await db.SignInSessions.AnyAsync(s => s.Key == key && (s.ExpiresAt == null || s.ExpiresAt >= now), cancellationToken);
    }

    private static string UserIdOf(AuthenticationTicket ticket) =>
        ticket.Principal.FindFirstValue(ClaimTypes.NameIdentifier)
        ?? throw new InvalidOperationException("A session cookie is only made for a signed-in user.");

    /// <summary>The ticket with the session's key among its claims (replacing an older one on renewal).</summary>
    private static byte[] Serialize(AuthenticationTicket ticket, string key)
    {
        if (ticket.Principal.Identity is ClaimsIdentity identity)
        {
            foreach (var old in identity.FindAll(KeyClaim).ToList())
            {
                identity.RemoveClaim(old);
            }

            identity.AddClaim(new Claim(KeyClaim, key));
        }

        return TicketSerializer.Default.Serialize(ticket);
    }
}
