using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Endpoints;
using Platform.Web.Security;
using Platform.Web.Services.Runtime;
using Platform.Web.Tests.Fakes;
using Platform.Web.Tests.Endpoints;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Security;

/// <summary>
/// The first start of a dashboard with no administrator configured: a random one-time password is printed once to
/// the console (nowhere else), works once for signing in, and must be changed before anything else; a second start
/// prints nothing.
/// </summary>
public sealed partial class FirstAdministratorTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Without_a_configured_password_a_one_time_password_is_printed_once_and_must_be_changed()
    {
        string data = Directory.CreateTempSubdirectory("platform-first-admin-").FullName;
        var firstConsole = new StringWriter();
        await using var first = new FirstStart(data, firstConsole);
        var (browser, _) = TestAccounts.CreateBrowser(first);
        using var __ = browser;

        string printed = firstConsole.ToString();
        var match = PrintedPassword().Match(printed);
        match.Success.Should().BeTrue($"the console says the password: {printed}");
        string password = match.Groups[1].Value;
        password.Should().HaveLength(20).And.NotBe(TestAccounts.AdminPassword);
        printed.Should().Contain("user name: root").And.Contain("shown only now");

        // It signs in, but only to the change-password page; the API hears a user who may do nothing yet.
        (await TestAccounts.PostSignInAsync(browser, "root", "not-" + password)).StatusCode.Should().Be(HttpStatusCode.OK, "a wrong password is refused");
        (await TestAccounts.PostSignInAsync(browser, "root", password)).StatusCode.Should().Be(HttpStatusCode.Redirect);
        var page = await browser.GetAsync("/vms", Ct);
        page.Headers.Location!.ToString().Should().Contain(MustChangePasswordMiddleware.ChangePasswordPath);
        (await browser.GetFromJsonAsync<MeResponse>("/api/v1/me", ApiJson.Options, Ct))!.RootPrivileges.Should().BeEmpty();

        await TestAccounts.PostChangePasswordAsync(browser, password, "roots-own-password-42", forced: true);
        (await browser.GetAsync("/vms", Ct)).StatusCode.Should().Be(HttpStatusCode.OK, "with her own password she is the administrator");
        var me = await browser.GetFromJsonAsync<MeResponse>("/api/v1/me", ApiJson.Options, Ct);
        me!.RootPrivileges.Should().Contain("User.Manage");

        var audit = await browser.GetFromJsonAsync<AuditPageResponse>("/api/v1/audit?take=500", ApiJson.Options, Ct);
        audit!.Items.Should().Contain(e => e.Action == AuditActions.UserCreate && e.Detail == "first administrator, one-time password");
        audit.Items.Should().NotContain(e => (e.Detail ?? "").Contains(password, StringComparison.Ordinal), "the password is written nowhere else");
        await first.DisposeAsync();

        // The next start finds a user and leaves things alone.
        var secondConsole = new StringWriter();
        await using var second = new FirstStart(data, secondConsole);
        using var again = second.CreateDefaultClient();
        (await again.GetAsync("/healthz", Ct)).StatusCode.Should().Be(HttpStatusCode.OK);
        secondConsole.ToString().Should().BeEmpty();
        var (rootAgain, _) = await TestAccounts.SignInAsync(second, "root", "roots-own-password-42");
        rootAgain.Dispose();
        await second.DisposeAsync();
        Directory.Delete(data, recursive: true);
    }

    /// <summary>The app on <paramref name="dataDirectory"/> with no administrator password set (user name root),
    /// printing to <paramref name="console"/>; no VM runs.</summary>
    private sealed class FirstStart(string dataDirectory, StringWriter console) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting("Platform:DataDirectory", dataDirectory);
            builder.UseEnvironment("Development");
            TestAccounts.Configure(builder);
            builder.UseSetting("Platform:Admin:UserName", "root");
            builder.UseSetting("Platform:Admin:Password", "");
            builder.ConfigureTestServices(services =>
            {
                services.AddSingleton<IVmRuntime>(new RecordingVmRuntime());
                services.AddSingleton(new FirstAdminConsole(console));
            });
        }
    }

    [GeneratedRegex(@"password:\s+(\S+)")]
    private static partial Regex PrintedPassword();
}
