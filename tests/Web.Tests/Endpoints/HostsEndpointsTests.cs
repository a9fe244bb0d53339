using System.Net;
using Platform.Web.Security;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Endpoints;

/// <summary><c>GET /api/v1/hosts</c> on a single host (no cluster): it lists itself; it needs Sys.Audit.</summary>
public sealed class HostsEndpointsTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_single_host_lists_itself()
    {
        using var client = factory.CreateClient();
        var response = await client.GetAsync("/api/v1/hosts", Ct);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var hosts = (await response.ReadJsonAsync()).EnumerateArray().ToList();

        hosts.Should().ContainSingle();
        var host = hosts[0];
        host.GetProperty("name").GetString().Should().Be(Environment.MachineName);
        host.GetProperty("state").GetString().Should().Be("Active");
        host.GetProperty("isThisHost").GetBoolean().Should().BeTrue();
        host.GetProperty("address").ValueKind.Should().Be(System.Text.Json.JsonValueKind.Null, "a single host runs no silo");
        host.GetProperty("lastHeartbeat").GetDateTimeOffset().Should().BeCloseTo(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1));
        host.GetProperty("startedAt").GetDateTimeOffset().Should().BeBefore(DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task A_user_without_sys_audit_is_refused()
    {
        string userId = await TestAccounts.CreateUserAsync(factory.Services, "hosts-vm-user", (BuiltInRoles.VmUserId, null));
        string token = await TestAccounts.CreateTokenAsync(factory.Services, userId);
        using var client = factory.CreateClient().WithToken(token);

        var response = await client.GetAsync("/api/v1/hosts", Ct);

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
    }
}
