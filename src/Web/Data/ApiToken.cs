using Platform.Web.Security;

namespace Platform.Web.Data;

/// <summary>
/// A bearer token for <c>/api/v1</c>, owned by a user and limited to a subset of their privileges. Only the
/// SHA-256 of the secret is stored: the token itself is shown once, when it is made.
/// </summary>
public sealed class ApiToken
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public required string UserId { get; set; }

    public required string Name { get; set; }

    /// <summary>Lower-case hex SHA-256 of the whole token text.</summary>
    public required string Hash { get; set; }

    /// <summary>The token's first characters, so its owner can tell tokens apart.</summary>
    public required string Prefix { get; set; }

    /// <summary>At most these, and never more than the owner has at the time of each request.</summary>
    public Privileges Privileges { get; set; }

    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;

    public DateTimeOffset? ExpiresAt { get; set; }

    public DateTimeOffset? LastUsedAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }

    public bool IsActive(DateTimeOffset now) => RevokedAt is null && (ExpiresAt is null || ExpiresAt > now);
}
