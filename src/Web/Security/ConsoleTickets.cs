using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Platform.Web.Security;

/// <summary>The two console WebSockets.</summary>
public enum ConsoleKind
{
    Serial,
    Vnc,
}

/// <summary>
/// Short-lived, single-use console tickets. The console page asks for one through an authenticated request (the
/// circuit, or <c>POST /api/v1/vms/{id}/console/{kind}/ticket</c> with the antiforgery token); the WebSocket must
/// bring both the session cookie and the ticket, which is bound to that user, that VM and that console. Kept in
/// memory only: a dashboard restart voids every ticket, which costs a page a reconnect.
/// </summary>
public sealed class ConsoleTickets(SecurityOptions options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Ticket> _tickets = new(StringComparer.Ordinal);

    public TimeSpan Lifetime => options.ConsoleTicketLifetime;

    /// <summary>The WebSocket's path with the ticket, as the page opens it: <c>/vms/{id}/vnc?ticket=…</c>.</summary>
    public static string WebSocketPath(Guid vmId, ConsoleKind kind, string ticket) =>
        $"/vms/{vmId}/{kind.ToString().ToLowerInvariant()}?ticket={Uri.EscapeDataString(ticket)}";

    /// <summary>A new ticket for <paramref name="userId"/> on that VM's console. The caller has checked VM.Console.</summary>
    public string Issue(string userId, Guid vmId, ConsoleKind kind)
    {
        var now = time.GetUtcNow();
        foreach (var (key, old) in _tickets)
        {
            if (old.ExpiresAt <= now)
            {
                _tickets.TryRemove(key, out _);
            }
        }

        string ticket = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        _tickets[ticket] = new Ticket(userId, vmId, kind, now + options.ConsoleTicketLifetime);
        return ticket;
    }

    /// <summary>Uses the ticket up (whatever the answer) and says whether it was issued to this user for this VM and
    /// console and has not expired.</summary>
    public bool TryRedeem(string? ticket, string userId, Guid vmId, ConsoleKind kind) =>
        ticket is not null
        && _tickets.TryRemove(ticket, out var found)
        && found.UserId == userId && found.VmId == vmId && found.Kind == kind
        && found.ExpiresAt > time.GetUtcNow();

    private sealed record Ticket(string UserId, Guid VmId, ConsoleKind Kind, DateTimeOffset ExpiresAt);
}
