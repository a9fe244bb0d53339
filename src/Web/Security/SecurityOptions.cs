namespace Platform.Web.Security;

/// <summary>Sign-in and session settings under <c>Platform:Security</c>.</summary>
public sealed class SecurityOptions
{
    public const string Section = "Platform:Security";

    /// <summary>A password needs at least this many characters (and <see cref="PasswordUniqueChars"/> different ones).</summary>
    public int PasswordMinLength { get; set; } = 12;

    public int PasswordUniqueChars { get; set; } = 4;

    /// <summary>Wrong passwords in a row before the account is locked for <see cref="LockoutDuration"/>.</summary>
    public int MaxFailedSignIns { get; set; } = 5;

    public TimeSpan LockoutDuration { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Sign-in attempts one client address may make per <see cref="SignInWindow"/>; more are answered 429.</summary>
    public int SignInAttemptsPerWindow { get; set; } = 10;

    public TimeSpan SignInWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a session lasts without being used.</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(8);

    /// <summary>How often a cookie and an open page are checked against the user (disabled, password changed).</summary>
    public TimeSpan RevalidationInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often open consoles and hub connections are checked again even without a change being announced.</summary>
    public TimeSpan AccessRecheckInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a console ticket can be redeemed.</summary>
    public TimeSpan ConsoleTicketLifetime { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// The first administrator, under <c>Platform:Admin</c>: used only when the database has no user at all. Without
/// <see cref="Password"/> a random one-time password is printed once to the console.
/// </summary>
public sealed class AdminOptions
{
    public const string Section = "Platform:Admin";

    public string UserName { get; set; } = "admin";

    public string? Password { get; set; }
}
