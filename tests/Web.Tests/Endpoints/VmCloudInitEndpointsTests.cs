using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Data;
using Platform.Web.Endpoints;
using Platform.Web.Security;
using Platform.Web.Tests.Infrastructure;
using Platform.Web.Tests.Services.CloudInit;

namespace Platform.Web.Tests.Endpoints;

/// <summary>
/// <c>/api/v1/vms/{id}/cloud-init</c> and <c>POST /api/v1/vms</c>'s <c>cloudInit</c> over real HTTP: settings saved
/// with the password hashed and never shown, every bad field refused by name, and no password in the audit or event log.
/// </summary>
public sealed class VmCloudInitEndpointsTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    private async Task<VmResponse> CreateVmAsync(HttpClient client, string name, object? cloudInit = null)
    {
        var response = await client.PostAsJsonAsync("/api/v1/vms", new { name, kernelPath = "/boot/vmlinuz", cloudInit }, ApiJson.Options, _ct);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(_ct));
        return (await response.ReadAsync<VmResponse>())!;
    }

    [Fact]
    public async Task Settings_are_saved_with_the_password_hashed_and_shown_without_it()
    {
        using var client = factory.CreateClient();
        var vm = await CreateVmAsync(client, "ci-api");
        (await client.GetFromJsonAsync<VmCloudInitResponse>($"/api/v1/vms/{vm.Id}/cloud-init", ApiJson.Options, _ct))!
            .Should().Match<VmCloudInitResponse>(r => !r.Configured && !r.Enabled && r.EffectiveHostname == "ci-api");
        string key = CloudInitRulesTests.PublicKey();

        var put = await client.PutAsJsonAsync($"/api/v1/vms/{vm.Id}/cloud-init",
            new { userName = "alice", password = "Very-Secret-42", sshAuthorizedKeys = key, hostname = "Ci-Host", packages = "curl" }, ApiJson.Options, _ct);

        string body = await put.Content.ReadAsStringAsync(_ct);
        put.StatusCode.Should().Be(HttpStatusCode.OK, body);
        body.Should().NotContain("Very-Secret-42").And.NotContain("$6$");
        var shown = (await client.GetFromJsonAsync<VmCloudInitResponse>($"/api/v1/vms/{vm.Id}/cloud-init", ApiJson.Options, _ct))!;
        (shown.Configured, shown.Enabled, shown.UserName, shown.PasswordSet, shown.Hostname, shown.SshAuthorizedKeys, shown.Packages)
            .Should().Be((true, true, "alice", true, "ci-host", key, "curl"));

        // Left out, the password stays; "" removes it (the key is then the way in).
        (await client.PutAsJsonAsync($"/api/v1/vms/{vm.Id}/cloud-init", new { userName = "alice", sshAuthorizedKeys = key }, ApiJson.Options, _ct))
            .StatusCode.Should().Be(HttpStatusCode.OK);
        (await client.GetFromJsonAsync<VmCloudInitResponse>($"/api/v1/vms/{vm.Id}/cloud-init", ApiJson.Options, _ct))!.PasswordSet.Should().BeTrue();
        (await client.PutAsJsonAsync($"/api/v1/vms/{vm.Id}/cloud-init", new { userName = "alice", password = "", sshAuthorizedKeys = key }, ApiJson.Options, _ct))
            .StatusCode.Should().Be(HttpStatusCode.OK);
        (await client.GetFromJsonAsync<VmCloudInitResponse>($"/api/v1/vms/{vm.Id}/cloud-init", ApiJson.Options, _ct))!.PasswordSet.Should().BeFalse();

        await using var scope = factory.Services.CreateAsyncScope();
        await using var db = await scope.ServiceProvider.GetRequiredService<IDbContextFactory<PlatformDbContext>>().CreateDbContextAsync(_ct);
        var audit = await db.AuditLog.AsNoTracking().Where(a => a.VmId == vm.Id).ToListAsync(_ct);
        audit.Should().Contain(a => a.Action == AuditActions.CloudInitUpdate);
        audit.Should().NotContain(a => (a.Detail ?? "").Contains("Very-Secret", StringComparison.Ordinal));
        var events = await db.VmEvents.AsNoTracking().Where(e => e.VmId == vm.Id).ToListAsync(_ct);
        events.Should().Contain(e => e.Kind == "CloudInit" && e.Message.Contains("user alice, a password, 1 SSH key", StringComparison.Ordinal));
        events.Should().NotContain(e => e.Message.Contains("Very-Secret", StringComparison.Ordinal) || e.Message.Contains("$6$", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Every_bad_field_is_refused_by_name_and_nothing_is_saved()
    {
        using var client = factory.CreateClient();
        var vm = await CreateVmAsync(client, "ci-bad");

        var put = await client.PutAsJsonAsync($"/api/v1/vms/{vm.Id}/cloud-init", new
        {
            userName = "Bad User", hostname = "-nope-", sshAuthorizedKeys = "ssh-ed25519 AAAA", packages = "ok Not_OK", userData = "just text",
        }, ApiJson.Options, _ct);

        put.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var errors = (await put.ReadJsonAsync()).GetProperty("errors");
        foreach (string field in new[] { "userName", "hostname", "sshAuthorizedKeys", "packages", "userData" })
        {
            errors.GetProperty(field)[0].GetString().Should().NotBeNullOrEmpty(field);
        }

        (await client.GetFromJsonAsync<VmCloudInitResponse>($"/api/v1/vms/{vm.Id}/cloud-init", ApiJson.Options, _ct))!.Configured.Should().BeFalse();

        var noWayIn = await client.PutAsJsonAsync($"/api/v1/vms/{vm.Id}/cloud-init", new { userName = "alice" }, ApiJson.Options, _ct);
        noWayIn.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await noWayIn.ReadJsonAsync()).GetProperty("errors").GetProperty("sshAuthorizedKeys")[0].GetString().Should().Contain("password or an SSH public key");
        (await client.PutAsJsonAsync($"/api/v1/vms/{Guid.NewGuid()}/cloud-init", new { userName = "alice", password = "pw" }, ApiJson.Options, _ct))
            .StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_new_vm_takes_its_settings_with_the_definition_and_bad_ones_are_refused_under_cloudInit()
    {
        using var client = factory.CreateClient();

        var refused = await client.PostAsJsonAsync("/api/v1/vms",
            new { name = "ci-new-bad", kernelPath = "/boot/vmlinuz", cloudInit = new { userName = "alice", sshAuthorizedKeys = "not a key" } }, ApiJson.Options, _ct);
        refused.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await refused.ReadJsonAsync()).GetProperty("errors").GetProperty("cloudInit.sshAuthorizedKeys")[0].GetString().Should().StartWith("Line 1:");

        var vm = await CreateVmAsync(client, "ci-new", new { userName = "frank", password = "pw-frank" });
        var shown = (await client.GetFromJsonAsync<VmCloudInitResponse>($"/api/v1/vms/{vm.Id}/cloud-init", ApiJson.Options, _ct))!;
        (shown.Configured, shown.UserName, shown.PasswordSet).Should().Be((true, "frank", true));
    }
}
