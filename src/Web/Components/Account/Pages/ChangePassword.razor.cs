using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Identity;
using Platform.Web.Data;
using Platform.Web.Components.Account.Shared;
using Platform.Web.Security;

namespace Platform.Web.Components.Account.Pages;

/// <summary>
/// Changes the signed-in user's password under the password policy. It also ends the user's other sessions
/// (Identity changes the security stamp; open pages notice within seconds) and lifts
/// <see cref="PlatformUser.MustChangePassword"/>.
/// </summary>
public partial class ChangePassword
{
    private string? _message;
    private bool _error = true;
    private bool _mustChange;

    [CascadingParameter]
    private HttpContext HttpContext { get; set; } = null!;

    // Bound under the name "Input" (the fields are named Input.X); never null once read.
    [SupplyParameterFromForm(Name = "Input")]
    private PasswordInput? Form { get; set; }

    private PasswordInput Input => Form ??= new();

    [Inject]
    public required UserManager<PlatformUser> Users { get; set; }

    [Inject]
    public required SignInManager<PlatformUser> SignIn { get; set; }

    [Inject]
    public required IPermissionService Permissions { get; set; }

    [Inject]
    public required IAuditLog Audit { get; set; }

    [Inject]
    public required SecurityOptions Options { get; set; }

    [Inject]
    public required NavigationManager Navigation { get; set; }

    protected override async Task OnInitializedAsync() =>
        _mustChange = (await Users.GetUserAsync(HttpContext.User))?.MustChangePassword ?? false;

    private async Task ChangeAsync()
    {
        var user = await Users.GetUserAsync(HttpContext.User);
        if (user is null)
        {
            _message = "Sign in again.";
            return;
        }

        var actor = AuditActor.From(HttpContext);
        // The current password is a sign-in by another door: a locked account may not use it, and a wrong one counts
        // towards lockout, or whoever holds an open session could guess the password here without limit.
        if (await Users.IsLockedOutAsync(user))
        {
            _message = $"Too many wrong passwords: this account is locked for up to {Options.LockoutDuration.TotalMinutes:0} minutes.";
            await Audit.AddAsync(actor, AuditActions.PasswordChange, AuditResult.Denied, detail: "locked out");
            return;
        }

        var result = await Users.ChangePasswordAsync(user, Input.CurrentPassword, Input.NewPassword);
        if (result.Errors.Any(e => e.Code == nameof(IdentityErrorDescriber.PasswordMismatch)))
        {
            await Users.AccessFailedAsync(user);
        }

        if (!result.Succeeded)
        {
            _message = string.Join(" ", result.Errors.Select(e => e.Description));
            await Audit.AddAsync(actor, AuditActions.PasswordChange, AuditResult.Failed, detail: string.Join(", ", result.Errors.Select(e => e.Code)));
            return;
        }

        await Users.ResetAccessFailedCountAsync(user);
        bool forced = user.MustChangePassword;
        if (forced)
        {
            user.MustChangePassword = false;
            await Users.UpdateAsync(user);
            Permissions.Invalidate();
        }

        // A fresh cookie for this browser (the old one no longer matches the security stamp).
        await SignIn.RefreshSignInAsync(user);
        await Audit.AddAsync(actor, AuditActions.PasswordChange, AuditResult.Succeeded);
        if (forced)
        {
            // The change was the only thing in the way: on to the dashboard, as after signing in.
            Navigation.NavigateTo("/vms", forceLoad: true);
            return;
        }

        _mustChange = false;
        _error = false;
        _message = "Your password is changed. Other sessions of yours are signed out.";
        Form = new PasswordInput();
    }

    private sealed class PasswordInput
    {
        [Required(ErrorMessage = "Enter your current password.")]
        public string CurrentPassword { get; set; } = "";

        [Required(ErrorMessage = "Enter a new password.")]
        public string NewPassword { get; set; } = "";

        [Compare(nameof(NewPassword), ErrorMessage = "The two new passwords differ.")]
        public string ConfirmPassword { get; set; } = "";
    }
}
