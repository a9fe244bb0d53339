using System.Net.Http.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Data;
using Platform.Web.Endpoints;
using Platform.Web.Security;
using Platform.Web.Tests.Endpoints;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Security;

/// <summary>
/// Someone holding a session (a browser left open) must not be able to guess the user's password through the
/// change-password form any faster than through the sign-in form: wrong current passwords count towards lockout.
/// </summary>
public sealed class PasswordGuessingTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Wrong_current_passwords_lock_the_account_and_a_locked_account_changes_nothing()
    {
        await TestAccounts.CreateUserAsync(factory.Services, "guessed-user", (BuiltInRoles.VmUserId, null));
        var (browser, _) = await TestAccounts.SignInAsync(factory, "guessed-user");
        using var _ = browser;

        for (int i = 0; i < 5; i++)
        {
            (await ChangePasswordAsync(browser, "a-guess-at-the-password-" + i)).Should().Contain("Incorrect password");
        }

        string answer = await ChangePasswordAsync(browser, TestAccounts.Password);

        answer.Should().Contain("locked").And.NotContain("Your password is changed");
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PlatformUser>>();
            var user = (await users.FindByNameAsync("guessed-user"))!;
            (await users.IsLockedOutAsync(user)).Should().BeTrue("the guesses counted as failed sign-ins");
            (await users.CheckPasswordAsync(user, TestAccounts.Password)).Should().BeTrue("the password did not change");
        }

        using var admin = factory.CreateClient();
        var audit = await admin.GetFromJsonAsync<AuditPageResponse>("/api/v1/audit?user=guessed-user&action=Account.PasswordChange", ApiJson.Options, Ct);
        audit!.Items.Should().Contain(e => e.Result == AuditResult.Denied && e.Detail == "locked out");
    }

    private static async Task<string> ChangePasswordAsync(HttpClient browser, string current)
    {
        var form = await browser.GetStringAsync("/account/password", Ct);
        var fields = new Dictionary<string, string>
        {
            ["_handler"] = "change-password",
            ["__RequestVerificationToken"] = TestAccounts.AntiforgeryToken(form),
            ["Input.CurrentPassword"] = current,
            ["Input.NewPassword"] = "a-brand-new-password-1",
            ["Input.ConfirmPassword"] = "a-brand-new-password-1",
        };
        var response = await browser.PostAsync("/account/password", new FormUrlEncodedContent(fields), Ct);
        return await response.Content.ReadAsStringAsync(Ct);
    }
}
