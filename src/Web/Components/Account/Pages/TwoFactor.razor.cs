using System.ComponentModel.DataAnnotations;
using System.Text;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Identity;
using Platform.Web.Data;
using Platform.Web.Components.Account.Shared;
using Platform.Web.Security;
using QRCoder;

namespace Platform.Web.Components.Account.Pages;

/// <summary>
/// Optional TOTP two-factor sign-in (RFC 6238, as every authenticator app does it) through Identity's authenticator
/// token provider: a key shown as a QR code and as text, turned on by a code that proves the app has it, with ten
/// recovery codes shown once.
/// </summary>
public partial class TwoFactor
{
    private string? _message;
    private bool _error = true;
    private bool _enabled;
    private string _formattedKey = "";
    private string _qrSvg = "";
    private IEnumerable<string>? _recoveryCodes;

    [CascadingParameter]
    private HttpContext HttpContext { get; set; } = null!;

    // Bound under the name "Input" (the fields are named Input.X); never null once read.
    [SupplyParameterFromForm(Name = "Input")]
    private CodeInput? Form { get; set; }

    private CodeInput Input => Form ??= new();

    [Inject]
    public required UserManager<PlatformUser> Users { get; set; }

    [Inject]
    public required SignInManager<PlatformUser> SignIn { get; set; }

    [Inject]
    public required IAuditLog Audit { get; set; }

    protected override async Task OnInitializedAsync()
    {
        var user = await Users.GetUserAsync(HttpContext.User);
        if (user is null)
        {
            return;
        }

        _enabled = await Users.GetTwoFactorEnabledAsync(user);
        if (!_enabled)
        {
            await LoadKeyAsync(user);
        }
    }

    private async Task LoadKeyAsync(PlatformUser user)
    {
        string? key = await Users.GetAuthenticatorKeyAsync(user);
        if (string.IsNullOrEmpty(key))
        {
            await Users.ResetAuthenticatorKeyAsync(user);
            key = await Users.GetAuthenticatorKeyAsync(user);
            // A new key changes the security stamp; keep this browser signed in.
            await SignIn.RefreshSignInAsync(user);
        }

        var formatted = new StringBuilder();
        for (int i = 0; i < key!.Length; i += 4)
        {
            formatted.Append(key.AsSpan(i, Math.Min(4, key.Length - i))).Append(' ');
        }

        _formattedKey = formatted.ToString().TrimEnd().ToLowerInvariant();
        string uri = $"otpauth://totp/Platform:{Uri.EscapeDataString(user.UserName!)}?secret={key}&issuer=Platform&digits=6";
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(uri, QRCodeGenerator.ECCLevel.M);
        _qrSvg = new SvgQRCode(data).GetGraphic(4);
    }

    private async Task EnableAsync()
    {
        var user = await Users.GetUserAsync(HttpContext.User);
        if (user is null)
        {
            return;
        }

        string code = Input.Code.Replace(" ", "", StringComparison.Ordinal);
        var actor = AuditActor.From(HttpContext);
        if (!await Users.VerifyTwoFactorTokenAsync(user, Users.Options.Tokens.AuthenticatorTokenProvider, code))
        {
            _message = "That code is not right: check the app's clock and try the next code.";
            await Audit.AddAsync(actor, AuditActions.TwoFactorEnable, AuditResult.Failed, detail: "wrong code");
            await LoadKeyAsync(user);
            return;
        }

        await Users.SetTwoFactorEnabledAsync(user, true);
        await SignIn.RefreshSignInAsync(user);
        _recoveryCodes = await Users.GenerateNewTwoFactorRecoveryCodesAsync(user, 10);
        await Audit.AddAsync(actor, AuditActions.TwoFactorEnable, AuditResult.Succeeded);
        _enabled = true;
        _error = false;
        _message = "Two-factor sign-in is on.";
    }

    private async Task DisableAsync()
    {
        var user = await Users.GetUserAsync(HttpContext.User);
        if (user is null)
        {
            return;
        }

        string code = Input.Code.Replace(" ", "", StringComparison.Ordinal);
        var actor = AuditActor.From(HttpContext);
        // A code here is a second factor given again: wrong ones count towards lockout as at sign-in, or whoever holds
        // an open session could try every code until two-factor sign-in is off.
        if (await Users.IsLockedOutAsync(user))
        {
            _message = "Too many wrong codes or passwords: this account is locked for a while.";
            await Audit.AddAsync(actor, AuditActions.TwoFactorDisable, AuditResult.Denied, detail: "locked out");
            return;
        }

        if (!await Users.VerifyTwoFactorTokenAsync(user, Users.Options.Tokens.AuthenticatorTokenProvider, code))
        {
            await Users.AccessFailedAsync(user);
            _message = "That code is not right.";
            await Audit.AddAsync(actor, AuditActions.TwoFactorDisable, AuditResult.Failed, detail: "wrong code");
            return;
        }

        await Users.SetTwoFactorEnabledAsync(user, false);
        await Users.ResetAuthenticatorKeyAsync(user);
        await SignIn.RefreshSignInAsync(user);
        await Audit.AddAsync(actor, AuditActions.TwoFactorDisable, AuditResult.Succeeded);
        _enabled = false;
        _error = false;
        _message = "Two-factor sign-in is off.";
        await LoadKeyAsync(user);
    }

    private sealed class CodeInput
    {
        [Required(ErrorMessage = "Enter the code.")]
        [StringLength(16)]
        public string Code { get; set; } = "";
    }
}
