using System.Net;
using System.Net.Http.Json;
using Platform.Web.Data;
using Platform.Web.Endpoints;
using Platform.Web.Security;
using Platform.Web.Tests.Endpoints;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Security;

/// <summary>Refusals that happen before any endpoint runs (a bad API token, another site's WebSocket) are audited too.</summary>
public sealed class RefusalAuditTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_bad_api_token_is_refused_and_audited_without_its_text()
    {
        const string Guess = "plt_guessed-token-text-0123456789";
        using var guesser = factory.CreateClient().WithToken(Guess);

        (await guesser.DeleteAsync($"/api/v1/vms/{Guid.NewGuid()}", Ct)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);

        using var admin = factory.CreateClient();
        var audit = await admin.GetFromJsonAsync<AuditPageResponse>($"/api/v1/audit?action={AuditActions.ApiAuthenticate}", ApiJson.Options, Ct);
        var entry = audit!.Items.Should().ContainSingle().Subject;
        entry.Result.Should().Be(AuditResult.Denied);
        entry.Detail.Should().Contain("plt_guesse").And.NotContain(Guess, "the full text of a token never goes to the log");
    }

    [Fact]
    public async Task A_websocket_from_another_site_is_refused_and_audited()
    {
        var (_, cookie) = await TestAccounts.SignInAsync(factory, TestAccounts.AdminName, TestAccounts.AdminPassword);
        var vmId = Guid.NewGuid();
        var socket = TestAccounts.ConsoleClient(factory, cookie, origin: "https://evil.example");

        var open = async () => await socket.ConnectAsync(TestAccounts.ConsoleUri(factory, await TestAccounts.AdminIdAsync(factory.Services), vmId, ConsoleKind.Vnc), Ct);

        (await open.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("403");
        using var admin = factory.CreateClient();
        var audit = await admin.GetFromJsonAsync<AuditPageResponse>($"/api/v1/audit?action={AuditActions.CrossOrigin}", ApiJson.Options, Ct);
        audit!.Items.Should().ContainSingle(e => e.Result == AuditResult.Denied && e.Detail!.Contains("https://evil.example", StringComparison.Ordinal)
            && e.Detail.Contains($"/vms/{vmId}/vnc", StringComparison.Ordinal));
    }
}
