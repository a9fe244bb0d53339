using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Identity;
using Platform.Web.Data;
using Platform.Web.Components.Account.Shared;
using Platform.Web.Security;

namespace Platform.Web.Components.Account.Pages;

/// <summary>
/// User name and password. Wrong passwords count towards lockout (<c>lockoutOnFailure: true</c>); the page's POSTs
/// are rate-limited per client address; every attempt goes to the audit log. A user with two-factor sign-in goes
/// on to <see cref="LoginTwoFactor"/>.
/// </summary>
public partial class Login
{
    private string? _message;

    [CascadingParameter]
    private HttpContext HttpContext { get; set; } = null!;

    // Bound under the name "Input" (the fields are named Input.X); never null once read.
    [SupplyParameterFromForm(Name = "Input")]
    private LoginInput? Form { get; set; }

    private LoginInput Input => Form ??= new();

    [SupplyParameterFromQuery]
    private string? ReturnUrl { get; set; }

    [Inject]
    public required SignInManager<PlatformUser> SignIn { get; set; }

    [Inject]
    public required IAuditLog Audit { get; set; }

    [Inject]
    public required SecurityOptions Options { get; set; }

    [Inject]
    public required NavigationManager Navigation { get; set; }

    private async Task SignInAsync()
    {
        string name = Input.UserName.Trim();
        var actor = new AuditActor(null, name, HttpContext.Connection.RemoteIpAddress?.ToString());
        var result = await SignIn.PasswordSignInAsync(name, Input.Password, isPersistent: false, lockoutOnFailure: true);
        if (result.Succeeded)
        {
            var user = await SignIn.UserManager.FindByNameAsync(name);
            await Audit.AddAsync(actor with { UserId = user?.Id }, AuditActions.SignIn, AuditResult.Succeeded);
            Navigation.NavigateTo(AccountRedirects.Safe(ReturnUrl), forceLoad: true);
            return;
        }

        if (result.RequiresTwoFactor)
        {
            Navigation.NavigateTo($"account/login-2fa?returnUrl={Uri.EscapeDataString(AccountRedirects.Safe(ReturnUrl))}", forceLoad: true);
            return;
        }

        // A locked account answers as a wrong password does, whatever the password, so the answer never tells
        // whether a name exists; the message says that lockout happens.
        _message = $"Wrong user name or password. After {Options.MaxFailedSignIns} wrong passwords in a row an account is locked for " +
            $"{Options.LockoutDuration.TotalMinutes:0} minutes.";
        if (result.IsLockedOut)
        {
            await Audit.AddAsync(actor, AuditActions.SignIn, AuditResult.Denied, detail: "locked out");
        }
        else if (result.IsNotAllowed)
        {
            // Only with the right password (PlatformSignInManager): telling its owner is no leak.
            _message = "This account is disabled. Ask an administrator.";
            await Audit.AddAsync(actor, AuditActions.SignIn, AuditResult.Denied, detail: "account disabled");
        }
        else
        {
            await Audit.AddAsync(actor, AuditActions.SignIn, AuditResult.Failed, detail: "wrong user name or password");
        }
    }

    private sealed class LoginInput
    {
        [Required(ErrorMessage = "Enter your user name.")]
        public string UserName { get; set; } = "";

        [Required(ErrorMessage = "Enter your password.")]
        public string Password { get; set; } = "";
    }
}
