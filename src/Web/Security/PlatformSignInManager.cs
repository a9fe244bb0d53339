using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Platform.Web.Data;

namespace Platform.Web.Security;

/// <summary>
/// Identity's sign-in manager, refusing disabled users (their password may still be right), and taking a password
/// hash's time on every attempt: Identity answers an unknown name, a disabled account and a locked one before it
/// hashes anything, which would tell from the answer's speed which names exist. A disabled account is reported as
/// such only to whoever gives its password; otherwise it fails like a wrong password.
/// </summary>
internal sealed class PlatformSignInManager(
    UserManager<PlatformUser> userManager,
    IHttpContextAccessor contextAccessor,
    IUserClaimsPrincipalFactory<PlatformUser> claimsFactory,
    IOptions<IdentityOptions> optionsAccessor,
    ILogger<SignInManager<PlatformUser>> logger,
    IAuthenticationSchemeProvider schemes,
    IUserConfirmation<PlatformUser> confirmation)
    : SignInManager<PlatformUser>(userManager, contextAccessor, claimsFactory, optionsAccessor, logger, schemes, confirmation)
{
    /// <summary>A hash of a random password, to check against when there is no account: a real hash's cost.</summary>
    private static string? s_decoyHash;

    public override async Task<bool> CanSignInAsync(PlatformUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return !user.Disabled && await base.CanSignInAsync(user);
    }

    public override async Task<SignInResult> PasswordSignInAsync(string userName, string password, bool isPersistent, bool lockoutOnFailure)
    {
        var user = await UserManager.FindByNameAsync(userName);
        if (user is null)
        {
            SpendAHash(password);
            return SignInResult.Failed;
        }

        return await PasswordSignInAsync(user, password, isPersistent, lockoutOnFailure);
    }

    public override async Task<SignInResult> CheckPasswordSignInAsync(PlatformUser user, string password, bool lockoutOnFailure)
    {
        var result = await base.CheckPasswordSignInAsync(user, password, lockoutOnFailure);
        if (result.IsNotAllowed || result.IsLockedOut)
        {
            // Refused before the password was looked at: look at it now, for the time. A locked account stays locked
            // whatever the password (else lockout would answer guesses); a disabled one says so only to its owner.
            bool right = await UserManager.CheckPasswordAsync(user, password);
            if (result.IsNotAllowed && !right)
            {
                return SignInResult.Failed;
            }
        }

        return result;
    }

    private void SpendAHash(string password)
    {
        var decoy = new PlatformUser { UserName = "decoy" };
        string hash = s_decoyHash ??= UserManager.PasswordHasher.HashPassword(decoy, Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)));
        UserManager.PasswordHasher.VerifyHashedPassword(decoy, hash, password);
    }
}

/// <summary>Adds <see cref="PlatformClaims.MustChangePassword"/> to the cookie of a user who must change their password.</summary>
internal sealed class PlatformClaimsFactory(UserManager<PlatformUser> userManager, IOptions<IdentityOptions> optionsAccessor)
    : UserClaimsPrincipalFactory<PlatformUser>(userManager, optionsAccessor)
{
    protected override async Task<ClaimsIdentity> GenerateClaimsAsync(PlatformUser user)
    {
        var identity = await base.GenerateClaimsAsync(user);
        if (user.MustChangePassword)
        {
            identity.AddClaim(new Claim(PlatformClaims.MustChangePassword, "true"));
        }

        return identity;
    }
}
