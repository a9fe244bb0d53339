using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Identity;
using Platform.Web.Data;
using Platform.Web.Components.Account.Shared;
using Platform.Web.Security;

namespace Platform.Web.Components.Account.Pages;

/// <summary>The second step for a user with two-factor sign-in: an authenticator code or a recovery code.
/// Wrong codes count towards lockout like wrong passwords.</summary>
public partial class LoginTwoFactor
{
    private string? _message;

    [CascadingParameter]
    private HttpContext HttpContext { get; set; } = null!;

    // Bound under the name "Input" (the fields are named Input.X); never null once read.
    [SupplyParameterFromForm(Name = "Input")]
    private CodeInput? Form { get; set; }

    private CodeInput Input => Form ??= new();

    [SupplyParameterFromQuery]
    private string? ReturnUrl { get; set; }

    [Inject]
    public required SignInManager<PlatformUser> SignIn { get; set; }

    [Inject]
    public required IAuditLog Audit { get; set; }

    [Inject]
    public required NavigationManager Navigation { get; set; }

    protected override async Task OnInitializedAsync()
    {
        // Only after a correct password: Identity keeps who that was in its two-factor cookie.
        if (await SignIn.GetTwoFactorAuthenticationUserAsync() is null)
        {
            Navigation.NavigateTo("account/login", forceLoad: true);
        }
    }

    private async Task VerifyAsync()
    {
        var user = await SignIn.GetTwoFactorAuthenticationUserAsync();
        if (user is null)
        {
            Navigation.NavigateTo("account/login", forceLoad: true);
            return;
        }

        string code = Input.Code.Replace(" ", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal);
        bool recovery = !(code.Length == 6 && code.All(char.IsAsciiDigit));
        var result = recovery
            ? await SignIn.TwoFactorRecoveryCodeSignInAsync(code)
            : await SignIn.TwoFactorAuthenticatorSignInAsync(code, isPersistent: false, rememberClient: false);
        var actor = new AuditActor(user.Id, user.UserName, HttpContext.Connection.RemoteIpAddress?.ToString());
        if (result.Succeeded)
        {
            await Audit.AddAsync(actor, AuditActions.SignIn, AuditResult.Succeeded, detail: recovery ? "with a recovery code" : "with an authenticator code");
            Navigation.NavigateTo(AccountRedirects.Safe(ReturnUrl), forceLoad: true);
        }
        else if (result.IsLockedOut)
        {
            _message = "Too many wrong codes: this account is locked for a while.";
            await Audit.AddAsync(actor, AuditActions.SignIn, AuditResult.Denied, detail: "locked out (two-factor)");
        }
        else
        {
            _message = "That code is not right.";
            await Audit.AddAsync(actor, AuditActions.SignIn, AuditResult.Failed, detail: "wrong two-factor code");
        }
    }

    private sealed class CodeInput
    {
        [Required(ErrorMessage = "Enter the code.")]
        [StringLength(32)]
        public string Code { get; set; } = "";
    }
}
