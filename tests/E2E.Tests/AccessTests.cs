using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Platform.E2E.Tests.Infrastructure;
using Platform.Web.Security;

namespace Platform.E2E.Tests;

/// <summary>Roles in a real browser: what an Auditor sees, and a grant made on the administration page.</summary>
public sealed class AccessTests : DashboardBrowserTest
{
    private const string Password = "a-browser-test-password";

    private static async Task<Guid> CreateVmAsync(HttpClient api, string name)
    {
        var created = await api.PostAsJsonAsync("/api/v1/vms", new { name, kernelPath = "/boot/vmlinuz" }, TestContext.Current.CancellationToken);
        created.EnsureSuccessStatusCode();
        return (await created.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("id").GetGuid();
    }

    [Fact]
    public async Task An_auditor_sees_the_vms_but_no_power_or_console_and_a_direct_console_url_is_refused()
    {
        using var api = Server.CreateApiClient();
        var id = await CreateVmAsync(api, "audited-vm");
        await Server.CreateUserAsync("auditor", Password, (BuiltInRoles.AuditorId, null));
        var page = await Chromium.NewPageAsync();
        try
        {
            await SignIn.AsAsync(page, Server.BaseAddress, "auditor", Password);
            await page.GotoAsync(new Uri(Server.BaseAddress, "/vms").ToString());
            await Interactive.WaitForCircuitAsync(page);
            await Assertions.Expect(page.GetByTestId("vm-list")).ToContainTextAsync("audited-vm");
            await Assertions.Expect(page.GetByLabel("Start audited-vm")).ToHaveCountAsync(0);
            await Assertions.Expect(page.GetByTestId("new-vm")).ToHaveCountAsync(0);

            await page.GotoAsync(new Uri(Server.BaseAddress, $"/vms/{id}").ToString());
            await Interactive.WaitForCircuitAsync(page);
            await Assertions.Expect(page.Locator("#page-title")).ToHaveTextAsync("audited-vm");
            await Assertions.Expect(page.GetByTestId("vm-power-buttons")).ToHaveCountAsync(0);
            await Assertions.Expect(page.GetByRole(AriaRole.Tab, new() { Name = "Console" })).ToHaveCountAsync(0);
            await Assertions.Expect(page.GetByRole(AriaRole.Tab, new() { Name = "Serial" })).ToHaveCountAsync(0);

            await page.GotoAsync(new Uri(Server.BaseAddress, $"/vms/{id}/screen").ToString());
            await Assertions.Expect(page.GetByTestId("console-denied")).ToBeVisibleAsync();

            // The WebSocket itself, opened from the page as a script would: refused.
            string outcome = await page.EvaluateAsync<string>(
                """
                id => new Promise(resolve => {
                    const socket = new WebSocket(`ws://${location.host}/vms/${id}/vnc`);
                    socket.onopen = () => resolve('opened');
                    socket.onerror = () => resolve('refused');
                })
                """, id.ToString());
            outcome.Should().Be("refused");
        }
        catch
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor("auditor-failure.png"), FullPage = true });
            throw;
        }
    }

    [Fact]
    public async Task An_administrator_grants_vmuser_on_one_vm_and_the_user_gets_that_console_only()
    {
        using var api = Server.CreateApiClient();
        var granted = await CreateVmAsync(api, "granted-vm");
        var other = await CreateVmAsync(api, "other-vm");
        await Server.CreateUserAsync("operator", Password);

        var admin = await Chromium.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        try
        {
            await SignIn.AsAdministratorAsync(admin, Server);
            await admin.GotoAsync(new Uri(Server.BaseAddress, "/admin/users").ToString());
            await Interactive.WaitForCircuitAsync(admin);
            await admin.GetByRole(AriaRole.Tab, new() { Name = "Grants" }).ClickAsync();
            await admin.GetByTestId("grant-subject").ClickAsync();
            await admin.GetByRole(AriaRole.Option, new() { Name = "operator", Exact = true }).ClickAsync();
            await admin.GetByTestId("grant-path").ClickAsync();
            await admin.GetByRole(AriaRole.Option, new() { Name = "granted-vm" }).ClickAsync();
            await admin.GetByTestId("grant-role").ClickAsync();
            await admin.GetByRole(AriaRole.Option, new() { Name = "VMUser", Exact = true }).ClickAsync();
            await admin.GetByTestId("add-grant").ClickAsync();
            await Assertions.Expect(admin.GetByTestId("grant-list")).ToContainTextAsync("operator");
        }
        catch
        {
            await admin.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor("grant-failure.png"), FullPage = true });
            throw;
        }

        var user = await (await Chromium.NewContextAsync()).NewPageAsync();
        await SignIn.AsAsync(user, Server.BaseAddress, "operator", Password);
        await user.GotoAsync(new Uri(Server.BaseAddress, "/vms").ToString());
        await Interactive.WaitForCircuitAsync(user);
        await Assertions.Expect(user.GetByTestId("vm-list")).ToContainTextAsync("granted-vm");
        await Assertions.Expect(user.GetByTestId("vm-list")).Not.ToContainTextAsync("other-vm");

        await user.GotoAsync(new Uri(Server.BaseAddress, $"/vms/{granted}").ToString());
        await Interactive.WaitForCircuitAsync(user);
        await Assertions.Expect(user.GetByRole(AriaRole.Tab, new() { Name = "Console" })).ToBeVisibleAsync();
        await Assertions.Expect(user.GetByLabel("Start granted-vm")).ToBeVisibleAsync();

        await user.GotoAsync(new Uri(Server.BaseAddress, $"/vms/{other}/screen").ToString());
        await Assertions.Expect(user.GetByTestId("vm-missing")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task A_revoked_grant_empties_the_users_open_page_within_seconds()
    {
        using var api = Server.CreateApiClient();
        var id = await CreateVmAsync(api, "revoked-vm");
        await Server.CreateUserAsync("viewer", Password, (BuiltInRoles.VmUserId, id));
        var page = await Chromium.NewPageAsync();
        await SignIn.AsAsync(page, Server.BaseAddress, "viewer", Password);
        await page.GotoAsync(new Uri(Server.BaseAddress, $"/vms/{id}").ToString());
        await Interactive.WaitForCircuitAsync(page);
        await Assertions.Expect(page.Locator("#page-title")).ToHaveTextAsync("revoked-vm");

        var grants = await api.GetFromJsonAsync<JsonElement>("/api/v1/grants", TestContext.Current.CancellationToken);
        var grant = grants.EnumerateArray().Single(g => g.GetProperty("subject").GetString() == "viewer").GetProperty("id").GetGuid();
        (await api.DeleteAsync($"/api/v1/grants/{grant}", TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();

        // The open page (a live circuit) hears of it and shows the VM as gone, without a reload.
        await Assertions.Expect(page.GetByTestId("vm-missing")).ToBeVisibleAsync(new() { Timeout = 5000 });
        await Assertions.Expect(page.Locator("#page-title")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task A_page_open_when_its_privilege_is_revoked_turns_to_not_allowed_within_seconds()
    {
        using var api = Server.CreateApiClient();
        await Server.CreateUserAsync("log-reader", Password, (BuiltInRoles.AuditorId, null));
        var page = await Chromium.NewPageAsync();
        await SignIn.AsAsync(page, Server.BaseAddress, "log-reader", Password);
        await page.GotoAsync(new Uri(Server.BaseAddress, "/audit").ToString());
        await Interactive.WaitForCircuitAsync(page);
        await Assertions.Expect(page.GetByTestId("audit-log")).ToBeVisibleAsync();

        var grants = await api.GetFromJsonAsync<JsonElement>("/api/v1/grants", TestContext.Current.CancellationToken);
        var grant = grants.EnumerateArray().Single(g => g.GetProperty("subject").GetString() == "log-reader").GetProperty("id").GetGuid();
        (await api.DeleteAsync($"/api/v1/grants/{grant}", TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();

        // The page's route needs Sys.Audit: the open circuit checks it again and shows the refusal instead of the log.
        await Assertions.Expect(page.GetByTestId("access-denied")).ToBeVisibleAsync(new() { Timeout = 5000 });
        await Assertions.Expect(page.GetByTestId("audit-log")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task An_administrator_adds_a_user_resets_their_password_and_disables_them_on_the_page()
    {
        var admin = await Chromium.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        try
        {
            await SignIn.AsAdministratorAsync(admin, Server);
            await admin.GotoAsync(new Uri(Server.BaseAddress, "/admin/users").ToString());
            await Interactive.WaitForCircuitAsync(admin);
            await admin.Locator("input[data-testid=new-user-name]").FillAsync("newcomer");
            await admin.Locator("input[data-testid=new-user-password]").FillAsync("chosen-for-newcomer-1");
            await admin.GetByTestId("create-user").ClickAsync();
            var row = admin.GetByTestId("user-list").Locator("tr", new() { HasText = "newcomer" });
            await Assertions.Expect(row).ToContainTextAsync("must change password");

            // The newcomer's first sign-in goes to the change-password page.
            var newcomer = await (await Chromium.NewContextAsync()).NewPageAsync();
            await SignIn.AsAsync(newcomer, Server.BaseAddress, "newcomer", "chosen-for-newcomer-1");
            await newcomer.GotoAsync(new Uri(Server.BaseAddress, "/vms").ToString());
            await Assertions.Expect(newcomer.GetByTestId("must-change-password")).ToBeVisibleAsync();

            // A reset shows a one-time password once, which then signs in.
            await admin.GetByLabel("Reset the password of newcomer").ClickAsync();
            var dialog = admin.GetByRole(AriaRole.Dialog);
            string text = await dialog.InnerTextAsync();
            string oneTime = System.Text.RegularExpressions.Regex.Match(text, @"one-time password (\S+)\?").Groups[1].Value;
            oneTime.Should().HaveLength(20, text);
            await dialog.GetByRole(AriaRole.Button, new() { Name = "Reset" }).ClickAsync();
            await Assertions.Expect(admin.Locator(".mud-snackbar", new() { HasText = "one-time password" })).ToContainTextAsync(oneTime);

            // Disabled, the newcomer cannot sign in with it.
            await admin.GetByLabel("Disable newcomer").ClickAsync();
            await Assertions.Expect(row).ToContainTextAsync("disabled");
            var again = await (await Chromium.NewContextAsync()).NewPageAsync();
            await again.GotoAsync(new Uri(Server.BaseAddress, "/account/login").ToString());
            await again.Locator("#username").FillAsync("newcomer");
            await again.Locator("#password").FillAsync(oneTime);
            await again.GetByTestId("login-submit").ClickAsync();
            await Assertions.Expect(again.GetByText("This account is disabled")).ToBeVisibleAsync();
            again.Url.Should().Contain("/account/login");
        }
        catch
        {
            await admin.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.PathFor("admin-users-failure.png"), FullPage = true });
            throw;
        }
    }
}
