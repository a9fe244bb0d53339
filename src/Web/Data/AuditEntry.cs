namespace Platform.Web.Data;

/// <summary>
/// One line of the audit log: who did (or tried) what, from where, to which VM, and how it ended. Written for every
/// state-changing action and every refusal; nothing in the dashboard or the API edits or deletes it.
/// </summary>
public sealed class AuditEntry
{
    public long Id { get; set; }

    public DateTimeOffset At { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>Null for someone not signed in (a failed sign-in, a request without credentials).</summary>
    public string? UserId { get; set; }

    /// <summary>The user name as it was then (kept when the user is deleted), or the name someone tried to sign in as.</summary>
    public string? UserName { get; set; }

    /// <summary>The client's IP address.</summary>
    public string? RemoteAddress { get; set; }

    /// <summary>What was done, like <c>VM.Start</c>, <c>User.Create</c>, <c>SignIn</c> (see <c>AuditActions</c>).</summary>
    public required string Action { get; set; }

    public Guid? VmId { get; set; }

    /// <summary>What else it concerned, in words: a user, a role, an image, an API request.</summary>
    public string? Target { get; set; }

    public AuditResult Result { get; set; }

    public string? Detail { get; set; }
}

public enum AuditResult
{
    Succeeded,
    Failed,
    /// <summary>Refused for want of a privilege, credentials, or because of lockout or rate limiting.</summary>
    Denied,
}
