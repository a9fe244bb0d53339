using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Data;
using Platform.Web.Endpoints;
using Platform.Web.Services.CloudInit;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Endpoints;

/// <summary>
/// The <c>networks</c> of <c>/api/v1/vms/{id}/cloud-init</c> over real HTTP: each NIC shown with its MAC, network and
/// that network's subnet; static addresses saved and shown back; a PUT of what GET gave keeps them; bad ones refused by
/// field; a PUT without <c>networks</c> leaves them as they are.
/// </summary>
public sealed class VmCloudInitNetworkEndpointsTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    /// <summary>A bridge network with a known subnet, added as an administrator would (the host's bridges are not the point here).</summary>
    private async Task<Guid> AddLanAsync(string name)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        await using var db = await scope.ServiceProvider.GetRequiredService<IDbContextFactory<PlatformDbContext>>().CreateDbContextAsync(_ct);
        var network = new Network { Name = name, Kind = NetworkKind.Bridge, Bridge = "vmbr0", Subnet = "192.168.20.0/24", Gateway = "192.168.20.1" };
        db.Networks.Add(network);
        await db.SaveChangesAsync(_ct);
        return network.Id;
    }

    private async Task<VmResponse> CreateVmAsync(HttpClient client, string name, Guid lan)
    {
        var response = await client.PostAsJsonAsync("/api/v1/vms", new
        {
            name, kernelPath = "/boot/vmlinuz",
            nics = new object[] { new { networkId = Network.DefaultId }, new { networkId = lan } },
            cloudInit = new { userName = "alice", password = "pw-alice" },
        }, ApiJson.Options, _ct);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(_ct));
        return (await response.ReadAsync<VmResponse>())!;
    }

    private Task<VmCloudInitResponse?> GetAsync(HttpClient client, Guid id) =>
        client.GetFromJsonAsync<VmCloudInitResponse>($"/api/v1/vms/{id}/cloud-init", ApiJson.Options, _ct);

    [Fact]
    public async Task Static_addresses_round_trip_and_a_put_of_what_get_gave_keeps_them()
    {
        using var client = factory.CreateClient();
        var lan = await AddLanAsync("lan-api");
        var vm = await CreateVmAsync(client, "ci-static", lan);
        var before = (await GetAsync(client, vm.Id))!;
        before.Networks.Select(n => (n.Position, n.Mode, n.Network, n.NetworkSubnet))
            .Should().Equal((0, CloudInitNicMode.Dhcp, "default", null), (1, CloudInitNicMode.Dhcp, "lan-api", "192.168.20.0/24"));

        var put = await client.PutAsJsonAsync($"/api/v1/vms/{vm.Id}/cloud-init", new
        {
            userName = "alice",
            networks = new object[]
            {
                new { position = 0, mode = "dhcp" },
                new { position = 1, mode = "static", ipv4Address = "192.168.20.30/24", ipv4Gateway = "192.168.20.1", dnsServers = new[] { "192.168.20.1" } },
            },
        }, ApiJson.Options, _ct);
        put.StatusCode.Should().Be(HttpStatusCode.OK, await put.Content.ReadAsStringAsync(_ct));

        var shown = (await GetAsync(client, vm.Id))!;
        shown.Networks[0].Mode.Should().Be(CloudInitNicMode.Dhcp);
        var lanNic = shown.Networks[1];
        (lanNic.Mode, lanNic.Ipv4Address, lanNic.Ipv4Gateway, lanNic.Ipv6Address).Should().Be((CloudInitNicMode.Static, "192.168.20.30/24", "192.168.20.1", null));
        lanNic.DnsServers.Should().Equal("192.168.20.1");
        lanNic.MacAddress.Should().Be(before.Networks[1].MacAddress);

        // GET's body sent back as it is keeps everything (its extra fields are read-only and ignored).
        (await client.PutAsJsonAsync($"/api/v1/vms/{vm.Id}/cloud-init", shown, ApiJson.Options, _ct)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await GetAsync(client, vm.Id))!.Networks[1].Should().BeEquivalentTo(lanNic);

        // Left out, networks stay as they were.
        (await client.PutAsJsonAsync($"/api/v1/vms/{vm.Id}/cloud-init", new { userName = "alice", packages = "curl" }, ApiJson.Options, _ct))
            .StatusCode.Should().Be(HttpStatusCode.OK);
        (await GetAsync(client, vm.Id))!.Networks[1].Ipv4Address.Should().Be("192.168.20.30/24");
    }

    [Fact]
    public async Task Bad_addresses_are_refused_by_field_name()
    {
        using var client = factory.CreateClient();
        var vm = await CreateVmAsync(client, "ci-static-bad", await AddLanAsync("lan-bad"));

        var put = await client.PutAsJsonAsync($"/api/v1/vms/{vm.Id}/cloud-init", new
        {
            userName = "alice",
            networks = new object[]
            {
                new { position = 0, mode = "static", ipv4Address = "10.0.2.15" },
                new { position = 1, mode = "static", ipv4Address = "192.168.20.1/24" },
                new { position = 7, mode = "dhcp" },
            },
        }, ApiJson.Options, _ct);

        put.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var errors = (await put.ReadJsonAsync()).GetProperty("errors");
        errors.GetProperty("networks[0].ipv4Address")[0].GetString().Should().Contain("10.0.2.15 is not an IPv4 address with a prefix length");
        errors.GetProperty("networks[1].ipv4Address")[0].GetString().Should().Be("192.168.20.1 is the gateway of lan-bad; give the NIC another address.");
        errors.GetProperty("networks[2].position")[0].GetString().Should().Be("The VM has no NIC 7: its NICs are numbered 0 to 1.");
        (await GetAsync(client, vm.Id))!.Networks.Should().OnlyContain(n => n.Mode == CloudInitNicMode.Dhcp);
    }

    [Fact]
    public async Task A_new_vms_cloud_init_takes_static_addresses_checked_against_its_nics()
    {
        using var client = factory.CreateClient();
        var lan = await AddLanAsync("lan-new");

        var refused = await client.PostAsJsonAsync("/api/v1/vms", new
        {
            name = "ci-static-new", kernelPath = "/boot/vmlinuz", nics = new object[] { new { networkId = lan } },
            cloudInit = new { userName = "alice", password = "pw-alice", networks = new object[] { new { position = 0, mode = "static", ipv4Address = "192.168.21.5/24" } } },
        }, ApiJson.Options, _ct);

        refused.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await refused.ReadJsonAsync()).GetProperty("errors").GetProperty("cloudInit.networks[0].ipv4Address")[0].GetString()
            .Should().Contain("is not in lan-new's subnet 192.168.20.0/24");
    }
}
