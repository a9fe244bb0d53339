namespace Platform.Web.Data;

/// <summary>
/// One browser's sign-in, kept on the server: the session cookie carries only <see cref="Key"/>, so deleting the row
/// (sign-out, "sign out everywhere") ends the session for whoever holds a copy of the cookie.
/// </summary>
public sealed class SignInSession
{
    /// <summary>A random key, the only thing the cookie names.</summary>
    public required string Key { get; set; }

    public required string UserId { get; set; }

    /// <summary>The serialized authentication ticket (the user's claims and the cookie's properties).</summary>
    public required byte[] Ticket { get; set; }

    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;

    public DateTimeOffset? ExpiresAt { get; set; }
}
