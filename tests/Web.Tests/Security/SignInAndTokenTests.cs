using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Data;
using Platform.Web.Endpoints;
using Platform.Web.Hubs;
using Platform.Web.Security;
using Platform.Web.Tests.Endpoints;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Security;

// Sign-in (lockout, rate limit), API tokens (scope, expiry, revocation), XSS in names, forged hub calls,
// revocation of an open console: each against the real app and database.
public sealed class SignInAndTokenTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Without_credentials_the_api_is_401_and_pages_send_to_the_sign_in_page()
    {
        var (browser, _) = TestAccounts.CreateBrowser(factory);
        using var _ = browser;
        (await browser.GetAsync("/api/v1/vms", Ct)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await browser.PostAsync("/api/v1/vms", JsonContent.Create(new { name = "x" }), Ct)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        var page = await browser.GetAsync("/vms", Ct);
        page.StatusCode.Should().Be(HttpStatusCode.Redirect);
        page.Headers.Location!.ToString().Should().Contain("/account/login");
        var bad = new HttpRequestMessage(HttpMethod.Get, "/api/v1/vms");
        bad.Headers.Authorization = new("Bearer", "plt_not-a-token");
        (await browser.SendAsync(bad, Ct)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Five_wrong_passwords_lock_the_account_even_against_the_right_one()
    {
        await TestAccounts.CreateUserAsync(factory.Services, "locked-user", (BuiltInRoles.VmUserId, null));
        var (browser, _) = TestAccounts.CreateBrowser(factory);
        using var _ = browser;
        for (int i = 0; i < 5; i++)
        {
            var wrong = await TestAccounts.PostSignInAsync(browser, "locked-user", "not-the-password-" + i);
            wrong.StatusCode.Should().Be(HttpStatusCode.OK, "a wrong password shows the form again");
        }

        var right = await TestAccounts.PostSignInAsync(browser, "locked-user", TestAccounts.Password);
        right.StatusCode.Should().Be(HttpStatusCode.OK, "the account is locked");
        (await right.Content.ReadAsStringAsync(Ct)).Should().Contain("locked");

        using var admin = factory.CreateClient();
        var audit = await admin.GetFromJsonAsync<AuditPageResponse>("/api/v1/audit?user=locked-user&action=SignIn", ApiJson.Options, Ct);
        audit!.Items.Should().Contain(e => e.Result == AuditResult.Failed).And.Contain(e => e.Result == AuditResult.Denied && e.Detail == "locked out");
    }

    [Fact]
    public async Task Sign_in_attempts_from_one_address_are_limited()
    {
        using var limited = factory.WithWebHostBuilder(b => b.UseSetting("Platform:Security:SignInAttemptsPerWindow", "3"));
        var (browser, _) = TestAccounts.CreateBrowser(limited);
        using var _ = browser;
        var codes = new List<HttpStatusCode>();
        for (int i = 0; i < 5; i++)
        {
            codes.Add((await TestAccounts.PostSignInAsync(browser, "nobody", "wrong-password-here")).StatusCode);
        }

        codes.Take(3).Should().AllBeEquivalentTo(HttpStatusCode.OK);
        codes.Skip(3).Should().AllBeEquivalentTo(HttpStatusCode.TooManyRequests);
        (await browser.GetAsync("/account/login", Ct)).StatusCode.Should().Be(HttpStatusCode.OK, "showing the form is not limited");
    }

    [Fact]
    public async Task A_token_does_only_what_its_scope_says_and_stops_when_revoked_or_expired()
    {
        string userId = await TestAccounts.CreateUserAsync(factory.Services, "token-user", (BuiltInRoles.VmAdminId, null));
        using var admin = factory.CreateClient();
        var vm = await (await admin.PostAsJsonAsync("/api/v1/vms", new { name = "token-vm", kernelPath = "/boot/vmlinuz" }, ApiJson.Options, Ct)).ReadAsync<VmResponse>();
        string readOnly = await TestAccounts.CreateTokenAsync(factory.Services, userId, Privileges.VmAudit);
        using var client = factory.CreateClient().WithToken(readOnly);

        (await client.GetAsync($"/api/v1/vms/{vm!.Id}", Ct)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await client.PostAsync($"/api/v1/vms/{vm.Id}/start", null, Ct)).StatusCode.Should().Be(HttpStatusCode.Forbidden, "the token has no VM.PowerMgmt");

        // A token cannot be made with more than its owner has, nor can a token make a bigger one.
        var tokens = factory.Services.GetRequiredService<ApiTokenService>();
        (await tokens.CreateAsync(userId, "too much", Privileges.UserManage, null, Ct)).Status.Should().Be(Platform.Web.Services.ServiceStatus.Invalid);
        var bigger = await client.PostAsJsonAsync("/api/v1/tokens", new { name = "bigger", privileges = new[] { "VM.PowerMgmt" } }, ApiJson.Options, Ct);
        bigger.StatusCode.Should().Be(HttpStatusCode.BadRequest);

        // Expired: the check is at each request.
        await using (var db = await factory.Services.GetRequiredService<IDbContextFactory<PlatformDbContext>>().CreateDbContextAsync(Ct))
        {
            var token = await db.ApiTokens.SingleAsync(t => t.UserId == userId, Ct);
            token.ExpiresAt = DateTimeOffset.UtcNow.AddMinutes(-1);
            await db.SaveChangesAsync(Ct);
        }

        (await client.GetAsync($"/api/v1/vms/{vm.Id}", Ct)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);

        string another = await TestAccounts.CreateTokenAsync(factory.Services, userId, Privileges.VmAudit);
        using var second = factory.CreateClient().WithToken(another);
        var mine = await second.GetFromJsonAsync<List<ApiTokenResponse>>("/api/v1/tokens", ApiJson.Options, Ct);
        mine!.Should().HaveCount(2).And.OnlyContain(t => t.Prefix.StartsWith("plt_", StringComparison.Ordinal));
        (await second.DeleteAsync($"/api/v1/tokens/{mine.First(t => t.ExpiresAt == null).Id}", Ct)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await second.GetAsync($"/api/v1/vms/{vm.Id}", Ct)).StatusCode.Should().Be(HttpStatusCode.Unauthorized, "the token is revoked");

        // Stored hashed: the database never holds the token text.
        await using (var db = await factory.Services.GetRequiredService<IDbContextFactory<PlatformDbContext>>().CreateDbContextAsync(Ct))
        {
            (await db.ApiTokens.AnyAsync(t => t.Hash == another || t.Prefix == another, Ct)).Should().BeFalse();
        }
    }

    [Fact]
    public async Task A_vm_description_with_markup_renders_as_text()
    {
        using var admin = factory.CreateClient();
        const string Payload = "<img src=x onerror=alert(1)>";
        var vm = await (await admin.PostAsJsonAsync("/api/v1/vms", new { name = "xss-vm", description = Payload, kernelPath = "/boot/vmlinuz" }, ApiJson.Options, Ct))
            .ReadAsync<VmResponse>();
        var (browser, _) = await TestAccounts.SignInAsync(factory, TestAccounts.AdminName, TestAccounts.AdminPassword);
        using var _ = browser;

        foreach (string path in new[] { "/vms", $"/vms/{vm!.Id}" })
        {
            string html = await browser.GetStringAsync(path, Ct);
            html.Should().Contain("&lt;img src=x onerror=alert(1)&gt;", $"{path} shows the description as text").And.NotContain(Payload);
        }
    }

    [Fact]
    public async Task A_forged_hub_call_for_a_hidden_vm_is_refused_and_audited()
    {
        using var admin = factory.CreateClient();
        var hidden = await (await admin.PostAsJsonAsync("/api/v1/vms", new { name = "forged-hub-vm", kernelPath = "/boot/vmlinuz" }, ApiJson.Options, Ct))
            .ReadAsync<VmResponse>();
        var mine = await (await admin.PostAsJsonAsync("/api/v1/vms", new { name = "viewer-vm", kernelPath = "/boot/vmlinuz" }, ApiJson.Options, Ct))
            .ReadAsync<VmResponse>();
        await TestAccounts.CreateUserAsync(factory.Services, "hub-viewer", (BuiltInRoles.AuditorId, mine!.Id));
        var (_, cookie) = await TestAccounts.SignInAsync(factory, "hub-viewer");
        await using var hub = TestAccounts.VmHubConnection(factory, cookie);
        await hub.StartAsync(Ct);

        await hub.InvokeAsync("Watch", mine.Id, Ct);
        var forged = () => hub.InvokeAsync("Watch", hidden!.Id, Ct);

        await forged.Should().ThrowAsync<HubException>();
        var audit = await admin.GetFromJsonAsync<AuditPageResponse>($"/api/v1/audit?user=hub-viewer&vmId={hidden!.Id}", ApiJson.Options, Ct);
        audit!.Items.Should().ContainSingle(e => e.Action == "Hub.Watch" && e.Result == AuditResult.Denied);
    }

    [Fact]
    public async Task Without_a_session_the_hub_refuses_to_connect()
    {
        await using var hub = TestAccounts.VmHubConnection(factory, cookie: null);
        var connect = () => hub.StartAsync(Ct);
        (await connect.Should().ThrowAsync<HttpRequestException>()).Which.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_console_url_without_a_fresh_ticket_opens_nothing()
    {
        var vmId = Guid.NewGuid();
        var (_, cookie) = await TestAccounts.SignInAsync(factory, TestAccounts.AdminName, TestAccounts.AdminPassword);
        string adminId = await TestAccounts.AdminIdAsync(factory.Services);
        var socket = TestAccounts.ConsoleClient(factory, cookie);

        var noTicket = async () => await socket.ConnectAsync(new Uri(factory.Server.BaseAddress, $"vms/{vmId}/vnc"), Ct);
        (await noTicket.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("403");

        var uri = TestAccounts.ConsoleUri(factory, adminId, vmId, ConsoleKind.Vnc);
        var first = async () => await socket.ConnectAsync(uri, Ct);
        (await first.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("409", "past the checks, the VM is not running");
        (await first.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("403", "a ticket is single-use");

        var wrongKind = TestAccounts.ConsoleUri(factory, adminId, vmId, ConsoleKind.Vnc).ToString().Replace("/vnc?", "/serial?", StringComparison.Ordinal);
        var other = async () => await socket.ConnectAsync(new Uri(wrongKind), Ct);
        (await other.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("403", "a ticket opens only its own console");

        var withoutCookie = factory.Server.CreateWebSocketClient();
        var anonymous = async () => await withoutCookie.ConnectAsync(TestAccounts.ConsoleUri(factory, adminId, vmId, ConsoleKind.Vnc), Ct);
        (await anonymous.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("401");
    }

    [Fact]
    public async Task An_api_token_opens_no_console_even_with_a_ticket_of_its_user()
    {
        string adminId = await TestAccounts.AdminIdAsync(factory.Services);
        var socket = factory.Server.CreateWebSocketClient();
        socket.ConfigureRequest = request => request.Headers.Authorization = $"Bearer {factory.AdminToken}";

        var open = async () => await socket.ConnectAsync(TestAccounts.ConsoleUri(factory, adminId, Guid.NewGuid(), ConsoleKind.Vnc), Ct);

        (await open.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("401", "a console needs the browser's session");
    }
}
