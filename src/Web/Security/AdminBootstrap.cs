using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Platform.Web.Data;

namespace Platform.Web.Security;

/// <summary>
/// Creates the first administrator when the database has no user: with the configured password, or with a random
/// one-time password that is printed once to the console (and written nowhere else: not to the log, not to a file),
/// which must be changed at the first sign-in. There is never a fixed default password.
/// </summary>
internal sealed class AdminBootstrap(
    UserManager<PlatformUser> users,
    IDbContextFactory<PlatformDbContext> dbFactory,
    AdminOptions options,
    IPermissionService permissions,
    IAuditLog audit,
    FirstAdminConsole console)
{
    public async Task EnsureAdministratorAsync(CancellationToken cancellationToken)
    {
        if (await users.Users.AnyAsync(cancellationToken))
        {
            return;
        }

        bool generated = string.IsNullOrEmpty(options.Password);
        string password = generated ? GeneratePassword() : options.Password!;
        var admin = new PlatformUser { UserName = options.UserName, MustChangePassword = generated };
        var created = await users.CreateAsync(admin, password);
        if (!created.Succeeded)
        {
            throw new InvalidOperationException(
                $"Could not create the first administrator '{options.UserName}' from Platform:Admin: " +
                string.Join(" ", created.Errors.Select(e => e.Description)));
        }

        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            db.AccessGrants.Add(new AccessGrant { UserId = admin.Id, RoleId = BuiltInRoles.AdministratorId });
            await db.SaveChangesAsync(cancellationToken);
        }

        permissions.Invalidate();
        await audit.AddAsync(new AuditActor(null, "(first start)", null), AuditActions.UserCreate, AuditResult.Succeeded,
            target: $"user {admin.UserName}", detail: generated ? "first administrator, one-time password" : "first administrator from Platform:Admin");
        if (generated)
        {
            await console.Writer.WriteLineAsync($"""

                Platform: created the first administrator.
                    user name: {admin.UserName}
                    password:  {password}
                This password is shown only now and must be changed at the first sign-in.
                (Set Platform__Admin__UserName and Platform__Admin__Password before the first start to choose them.)

                """);
        }
    }

    /// <summary>20 characters from an alphabet without look-alikes (no 0/O, 1/l/I): about 113 bits.</summary>
    internal static string GeneratePassword()
    {
        const string Alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        return RandomNumberGenerator.GetString(Alphabet, 20);
    }
}

/// <summary>Where the first administrator's one-time password is printed: the dashboard's console (a test listens
/// by registering its own).</summary>
public sealed record FirstAdminConsole(TextWriter Writer);
