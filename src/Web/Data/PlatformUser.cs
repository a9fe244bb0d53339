using Microsoft.AspNetCore.Identity;

namespace Platform.Web.Data;

/// <summary>A person (or a script's owner) who signs in; ASP.NET Core Identity's user with what the dashboard adds.</summary>
public sealed class PlatformUser : IdentityUser
{
    /// <summary>A disabled user cannot sign in, and their open pages, consoles and tokens stop working within seconds.</summary>
    public bool Disabled { get; set; }

    /// <summary>Set for a password someone else chose (the first administrator's one-time password): until it is
    /// changed the user can do nothing but change it.</summary>
    public bool MustChangePassword { get; set; }

    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
}
