using System.Net;
using System.Text.Json;
using Platform.Web.Tests.Endpoints;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Cluster;

/// <summary>
/// Two hosts, each an Orleans silo with ADO.NET membership on one real PostgreSQL (<see cref="TestPostgres"/>), find
/// each other through the membership table and list each other in <c>GET /api/v1/hosts</c>.
/// </summary>
[Collection(SharedPostgres.Name)]
public sealed class ClusterMembershipTests(TestPostgres postgres)
{
    private static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(90);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Two_hosts_on_one_database_see_each_other_as_active()
    {
        string database = await postgres.CreateDatabaseAsync();
        await using var first = new ClusterAppFactory(database, "host-a");
        string token = await TestAccounts.CreateTokenAsync(first.Services, await TestAccounts.AdminIdAsync(first.Services));
        await using var second = new ClusterAppFactory(database, "host-b");
        using var onFirst = first.CreateClient().WithToken(token);
        using var onSecond = second.CreateClient().WithToken(token);

        var seenByFirst = await WaitForActiveHostsAsync(onFirst, 2);
        var seenBySecond = await WaitForActiveHostsAsync(onSecond, 2);

        Names(seenByFirst).Should().Equal("host-a", "host-b");
        Names(seenBySecond).Should().Equal(new[] { "host-b", "host-a" }, "each lists itself first");
        seenByFirst[0].GetProperty("isThisHost").GetBoolean().Should().BeTrue();
        seenByFirst[1].GetProperty("isThisHost").GetBoolean().Should().BeFalse();
        seenByFirst[1].GetProperty("address").GetString().Should().Be($"127.0.0.1:{second.SiloPort}");
        seenByFirst[1].GetProperty("lastHeartbeat").GetDateTimeOffset().Should().BeCloseTo(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1));

        long rows = (long)(await TestPostgres.ScalarAsync(database, "SELECT count(*) FROM orleansmembershiptable WHERE status = 3 AND deploymentid = 'test'"))!;
        rows.Should().Be(2, "both silos are active rows of the membership table in PostgreSQL");
    }

    [Fact]
    public async Task A_host_that_stops_is_no_longer_active_for_the_other()
    {
        string database = await postgres.CreateDatabaseAsync();
        await using var first = new ClusterAppFactory(database, "host-a");
        string token = await TestAccounts.CreateTokenAsync(first.Services, await TestAccounts.AdminIdAsync(first.Services));
        using var onFirst = first.CreateClient().WithToken(token);
        await using var second = new ClusterAppFactory(database, "host-b");
        using (var onSecond = second.CreateClient().WithToken(token))
        {
            await WaitForActiveHostsAsync(onSecond, 2);
        }

        await second.DisposeAsync();

        var deadline = DateTime.UtcNow + JoinTimeout;
        JsonElement[] hosts;
        do
        {
            await Task.Delay(250, Ct);
            hosts = await HostsAsync(onFirst);
        }
        while (hosts.Any(h => h.GetProperty("name").GetString() == "host-b" && h.GetProperty("state").GetString() == "Active") && DateTime.UtcNow < deadline);

        hosts.Single(h => h.GetProperty("name").GetString() == "host-b").GetProperty("state").GetString()
            .Should().BeOneOf(["Dead", "ShuttingDown"], "a host that stopped in order leaves the membership");
    }

    private static async Task<JsonElement[]> WaitForActiveHostsAsync(HttpClient client, int count)
    {
        var deadline = DateTime.UtcNow + JoinTimeout;
        while (true)
        {
            var hosts = await HostsAsync(client);
            if (hosts.Count(h => h.GetProperty("state").GetString() == "Active") >= count || DateTime.UtcNow > deadline)
            {
                hosts.Count(h => h.GetProperty("state").GetString() == "Active").Should().Be(count, $"the hosts join within {JoinTimeout}");
                return hosts;
            }

            await Task.Delay(250, Ct);
        }
    }

    private static async Task<JsonElement[]> HostsAsync(HttpClient client)
    {
        var response = await client.GetAsync("/api/v1/hosts", Ct);
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Ct));
        return [.. (await response.ReadJsonAsync()).EnumerateArray()];
    }

    private static string?[] Names(JsonElement[] hosts) => [.. hosts.Select(h => h.GetProperty("name").GetString())];
}
