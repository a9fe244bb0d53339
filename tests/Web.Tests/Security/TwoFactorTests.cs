using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Security;

/// <summary>TOTP two-factor sign-in on the real app: a code after the password, and codes that count towards lockout.</summary>
public sealed class TwoFactorTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_user_with_two_factor_sign_in_needs_a_code_after_the_password()
    {
        string key = await UserWithTwoFactorAsync("totp-signin");
        var (browser, _) = TestAccounts.CreateBrowser(factory);
        using var _ = browser;

        var password = await TestAccounts.PostSignInAsync(browser, "totp-signin", TestAccounts.Password);
        password.Headers.Location!.ToString().Should().Contain("account/login-2fa");
        (await browser.GetAsync("/vms", Ct)).StatusCode.Should().Be(HttpStatusCode.Redirect, "the password alone signs nobody in");

        (await (await PostAsync(browser, "/account/login-2fa", "login-2fa", Totp.WrongCode(key))).Content.ReadAsStringAsync(Ct))
            .Should().Contain("That code is not right");
        var right = await PostAsync(browser, "/account/login-2fa", "login-2fa", Totp.Code(key));

        right.StatusCode.Should().Be(HttpStatusCode.Redirect);
        (await browser.GetAsync("/vms", Ct)).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Wrong_codes_to_turn_two_factor_off_lock_the_account_and_then_even_a_right_code_leaves_it_on()
    {
        string key = await UserWithTwoFactorAsync("totp-off");
        var (browser, _) = TestAccounts.CreateBrowser(factory);
        using var _ = browser;
        await TestAccounts.PostSignInAsync(browser, "totp-off", TestAccounts.Password);
        (await PostAsync(browser, "/account/login-2fa", "login-2fa", Totp.Code(key))).StatusCode.Should().Be(HttpStatusCode.Redirect);

        for (int i = 0; i < 5; i++)
        {
            (await (await PostAsync(browser, "/account/two-factor", "two-factor-off", Totp.WrongCode(key))).Content.ReadAsStringAsync(Ct))
                .Should().Contain("That code is not right");
        }

        string answer = await (await PostAsync(browser, "/account/two-factor", "two-factor-off", Totp.Code(key))).Content.ReadAsStringAsync(Ct);

        answer.Should().Contain("locked").And.NotContain("Two-factor sign-in is off");
        await using var scope = factory.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PlatformUser>>();
        var user = (await users.FindByNameAsync("totp-off"))!;
        (await users.GetTwoFactorEnabledAsync(user)).Should().BeTrue();
        (await users.IsLockedOutAsync(user)).Should().BeTrue("wrong codes count as failed sign-ins");
    }

    /// <summary>A VMUser with two-factor sign-in on; the authenticator key.</summary>
    private async Task<string> UserWithTwoFactorAsync(string name)
    {
        await TestAccounts.CreateUserAsync(factory.Services, name, (BuiltInRoles.VmUserId, null));
        await using var scope = factory.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PlatformUser>>();
        var user = (await users.FindByNameAsync(name))!;
        await users.ResetAuthenticatorKeyAsync(user);
        await users.SetTwoFactorEnabledAsync(user, true);
        return (await users.GetAuthenticatorKeyAsync(user))!;
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient browser, string path, string formName, string code)
    {
        string form = await browser.GetStringAsync(path, Ct);
        var fields = new Dictionary<string, string>
        {
            ["_handler"] = formName,
            ["__RequestVerificationToken"] = TestAccounts.AntiforgeryToken(form),
            ["Input.Code"] = code,
        };
        return await browser.PostAsync(path, new FormUrlEncodedContent(fields), Ct);
    }
}
