using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Security;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Security;

// Browser sessions end when they should: sign-out (a copied cookie too), sign-out everywhere, a disabled account, a
// password change elsewhere; and sign-out itself cannot be forged by another site.
public sealed class SessionTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A client with no cookie jar that sends <paramref name="cookie"/> as it is: a stolen copy of a session.</summary>
    private HttpClient CopiedCookie(string cookie)
    {
        var client = factory.CreateDefaultClient();
        client.DefaultRequestHeaders.Authorization = null;
        client.DefaultRequestHeaders.Add("Cookie", cookie);
        return client;
    }

    private static async Task<HttpStatusCode> ApiStatusAsync(HttpClient client) => (await client.GetAsync("/api/v1/me", Ct)).StatusCode;

    private static async Task<HttpResponseMessage> PostFormAsync(HttpClient browser, string path, bool withToken)
    {
        var fields = new Dictionary<string, string>();
        if (withToken)
        {
            fields["__RequestVerificationToken"] = TestAccounts.AntiforgeryToken(await browser.GetStringAsync("/account/password", Ct));
        }

        return await browser.PostAsync(path, new FormUrlEncodedContent(fields), Ct);
    }

    private static async Task WaitForStatusAsync(HttpClient client, HttpStatusCode status, TimeSpan within)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (await ApiStatusAsync(client) != status)
        {
            clock.Elapsed.Should().BeLessThan(within, $"the session should answer {status} within {within.TotalSeconds} s");
            await Task.Delay(100, Ct);
        }
    }

    [Fact]
    public async Task A_copied_session_cookie_stops_working_when_its_session_signs_out()
    {
        await TestAccounts.CreateUserAsync(factory.Services, "session-copy", (BuiltInRoles.VmUserId, null));
        var (browser, cookie) = await TestAccounts.SignInAsync(factory, "session-copy");
        using var _ = browser;
        using var thief = CopiedCookie(cookie);
        (await ApiStatusAsync(thief)).Should().Be(HttpStatusCode.OK, "the copy works while the session lasts");

        var signOut = await PostFormAsync(browser, "/account/logout", withToken: true);

        signOut.StatusCode.Should().Be(HttpStatusCode.Redirect);
        (await ApiStatusAsync(thief)).Should().Be(HttpStatusCode.Unauthorized, "the session ended on the server, not only in the browser");
        (await thief.GetAsync("/vms", Ct)).StatusCode.Should().Be(HttpStatusCode.Redirect, "pages send the copy to the sign-in page");
    }

    [Fact]
    public async Task Sign_out_without_the_antiforgery_token_is_refused_and_the_session_lives_on()
    {
        await TestAccounts.CreateUserAsync(factory.Services, "session-forged", (BuiltInRoles.VmUserId, null));
        var (browser, _) = await TestAccounts.SignInAsync(factory, "session-forged");
        using var _ = browser;

        foreach (string path in new[] { "/account/logout", "/account/logout-everywhere" })
        {
            var forged = await PostFormAsync(browser, path, withToken: false);
            forged.StatusCode.Should().Be(HttpStatusCode.BadRequest, $"{path} without the token comes from elsewhere");
            (await forged.Content.ReadAsStringAsync(Ct)).Should().Contain("antiforgery token");
        }

        (await ApiStatusAsync(browser)).Should().Be(HttpStatusCode.OK, "a refused sign-out signs nobody out");
    }

    [Fact]
    public async Task Sign_out_everywhere_ends_every_session_of_the_user_and_no_one_else_s()
    {
        await TestAccounts.CreateUserAsync(factory.Services, "session-many", (BuiltInRoles.VmUserId, null));
        await TestAccounts.CreateUserAsync(factory.Services, "session-bystander", (BuiltInRoles.VmUserId, null));
        var (laptop, _) = await TestAccounts.SignInAsync(factory, "session-many");
        var (phone, _) = await TestAccounts.SignInAsync(factory, "session-many");
        var (bystander, _) = await TestAccounts.SignInAsync(factory, "session-bystander");
        using var a = laptop;
        using var b = phone;
        using var c = bystander;

        (await PostFormAsync(laptop, "/account/logout-everywhere", withToken: true)).StatusCode.Should().Be(HttpStatusCode.Redirect);

        (await ApiStatusAsync(laptop)).Should().Be(HttpStatusCode.Unauthorized);
        (await ApiStatusAsync(phone)).Should().Be(HttpStatusCode.Unauthorized, "the other session ends at once too");
        (await ApiStatusAsync(bystander)).Should().Be(HttpStatusCode.OK, "another user's session is not touched");
        (await laptop.GetStringAsync("/account/login", Ct)).Should().NotBeEmpty();
        var (again, _) = await TestAccounts.SignInAsync(factory, "session-many");
        using var d = again;
        (await ApiStatusAsync(again)).Should().Be(HttpStatusCode.OK, "signing in again works");
    }

    [Fact]
    public async Task A_401_from_the_api_is_problem_details_that_say_what_to_send()
    {
        var (browser, _) = TestAccounts.CreateBrowser(factory);
        using var _ = browser;
        var anonymous = await browser.GetAsync("/api/v1/vms", Ct);
        var bad = new HttpRequestMessage(HttpMethod.Get, "/api/v1/vms");
        bad.Headers.Authorization = new("Bearer", "plt_not-a-token");
        var badToken = await browser.SendAsync(bad, Ct);

        foreach (var response in new[] { anonymous, badToken })
        {
            response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
            response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
            string body = await response.Content.ReadAsStringAsync(Ct);
            body.Should().Contain("\"status\":401").And.Contain("API token");
        }
    }

    [Fact]
    public async Task Disabling_a_user_ends_their_sessions_at_once()
    {
        string userId = await TestAccounts.CreateUserAsync(factory.Services, "session-disabled", (BuiltInRoles.VmUserId, null));
        var (browser, _) = await TestAccounts.SignInAsync(factory, "session-disabled");
        using var _ = browser;
        string adminId = await TestAccounts.AdminIdAsync(factory.Services);

        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var admin = scope.ServiceProvider.GetRequiredService<AccessAdministration>();
            (await admin.SetDisabledAsync(new AuditActor(adminId, TestAccounts.AdminName, null), userId, disabled: true)).Succeeded.Should().BeTrue();
        }

        (await ApiStatusAsync(browser)).Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_password_change_ends_the_user_s_other_sessions_within_seconds()
    {
        await TestAccounts.CreateUserAsync(factory.Services, "session-password", (BuiltInRoles.VmUserId, null));
        var (here, _) = await TestAccounts.SignInAsync(factory, "session-password");
        var (elsewhere, cookie) = await TestAccounts.SignInAsync(factory, "session-password");
        using var a = here;
        using var b = elsewhere;

        await TestAccounts.PostChangePasswordAsync(here, TestAccounts.Password, "a-new-password-for-sessions");

        await WaitForStatusAsync(elsewhere, HttpStatusCode.Unauthorized, TimeSpan.FromSeconds(5));
        (await ApiStatusAsync(here)).Should().Be(HttpStatusCode.OK, "the browser that changed it stays signed in");
    }
}
