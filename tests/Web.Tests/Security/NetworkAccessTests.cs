using System.Net;
using System.Net.Http.Json;
using Platform.Web.Data;
using Platform.Web.Endpoints;
using Platform.Web.Security;
using Platform.Web.Tests.Endpoints;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Security;

/// <summary>
/// Attaching a NIC to a network needs Network.Use on it, granted on <c>/networks/{id}</c> or on <c>/</c>; a port forward
/// that exposes the VM (another address than loopback, a host port below 1024) needs User.Manage; networks are
/// listed to those who may use one, and only administrators add or delete them.
/// </summary>
public sealed class NetworkAccessTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<(HttpClient Client, string UserId)> ClientOfAsync(string name, Guid roleId)
    {
        string userId = await TestAccounts.CreateUserAsync(factory.Services, name, (roleId, null));
        return (factory.CreateClient().WithToken(await TestAccounts.CreateTokenAsync(factory.Services, userId)), userId);
    }

    private async Task<Guid> KernelAsync()
    {
        using var admin = factory.CreateClient();
        using var form = new MultipartFormDataContent { { new StringContent("kernel"), "kind" } };
        var file = new ByteArrayContent([1, 2, 3, 4]);
        file.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("application/octet-stream");
        form.Add(file, "file", $"net-kernel-{Guid.NewGuid():N}.bin");
        var response = await admin.PostAsync("/api/v1/images", form, Ct);
        response.StatusCode.Should().Be(HttpStatusCode.Created);
        return (await response.ReadAsync<ImageResponse>())!.Id;
    }

    private async Task<HttpResponseMessage> CreateOnDefaultAsync(HttpClient client, string name, params object[] forwards) =>
        await client.PostAsJsonAsync("/api/v1/vms",
            new { name, kernelImageId = await KernelAsync(), nics = new[] { new { networkId = Network.DefaultId, portForwards = forwards } } },
            ApiJson.Options, Ct);

    [Fact]
    public async Task Without_network_use_a_nic_on_the_network_is_refused_and_a_grant_on_that_network_allows_it()
    {
        using var admin = factory.CreateClient();
        var role = await admin.PostAsJsonAsync("/api/v1/roles",
            new SaveRoleRequest("VmMakerWithoutNetworks", ["VM.Audit", "VM.Allocate", "VM.Config", "Image.Use"], null), ApiJson.Options, Ct);
        role.StatusCode.Should().Be(HttpStatusCode.Created);
        var roleId = (await role.Content.ReadFromJsonAsync<RoleResponse>(ApiJson.Options, Ct))!.Id;
        var (maker, makerId) = await ClientOfAsync("net-maker", roleId);
        using (maker)
        {
            var refused = await CreateOnDefaultAsync(maker, "wants-a-network");
            refused.StatusCode.Should().Be(HttpStatusCode.Forbidden);
            (await refused.Content.ReadAsStringAsync(Ct)).Should().Contain("Network.Use").And.Contain("default");
            (await maker.GetAsync("/api/v1/networks", Ct)).StatusCode.Should().Be(HttpStatusCode.Forbidden, "no Network.Use anywhere, no Sys.Audit");

            var grant = await admin.PostAsJsonAsync("/api/v1/grants",
                new CreateGrantRequest(makerId, null, null, BuiltInRoles.NetworkUserId, Network.DefaultId), ApiJson.Options, Ct);
            grant.StatusCode.Should().Be(HttpStatusCode.Created);
            (await grant.Content.ReadAsStringAsync(Ct)).Should().Contain($"/networks/{Network.DefaultId}");

            // A token carries the privileges its user had when it was made: one made now includes Network.Use.
            using var maker2 = factory.CreateClient().WithToken(await TestAccounts.CreateTokenAsync(factory.Services, makerId));
            var allowed = await CreateOnDefaultAsync(maker2, "wants-a-network");
            allowed.StatusCode.Should().Be(HttpStatusCode.Created, "Network.Use on that network is enough; the maker's grant on / has none");
            var vm = (await allowed.ReadAsync<VmResponse>())!;
            vm.Nics.Should().ContainSingle().Which.Should().BeEquivalentTo(new { NetworkId = (Guid?)Network.DefaultId, NetworkName = "default", TapName = (string?)null });
            var networks = await maker2.GetFromJsonAsync<List<NetworkResponse>>("/api/v1/networks", ApiJson.Options, Ct);
            networks!.Single(n => n.Id == Network.DefaultId).MayUse.Should().BeTrue();
        }
    }

    [Fact]
    public async Task A_vm_admin_may_forward_a_high_loopback_port_but_exposing_the_vm_needs_an_administrator()
    {
        var (vmAdmin, _) = await ClientOfAsync("net-vmadmin", BuiltInRoles.VmAdminId);
        using (vmAdmin)
        {
            (await CreateOnDefaultAsync(vmAdmin, "exposed-any", new { protocol = "Tcp", hostAddress = "0.0.0.0", hostPort = 18080, guestPort = 80 }))
                .StatusCode.Should().Be(HttpStatusCode.Forbidden, "every address of the host exposes the VM");
            var privileged = await CreateOnDefaultAsync(vmAdmin, "exposed-low", new { protocol = "Tcp", hostAddress = "127.0.0.1", hostPort = 80, guestPort = 80 });
            privileged.StatusCode.Should().Be(HttpStatusCode.Forbidden, "ports below 1024 are the host's services'");
            (await privileged.Content.ReadAsStringAsync(Ct)).Should().Contain("port forward from tcp 127.0.0.1:80").And.Contain("User.Manage");
            (await CreateOnDefaultAsync(vmAdmin, "forwards-ssh", new { protocol = "Tcp", hostAddress = "127.0.0.1", hostPort = 18022, guestPort = 22 }))
                .StatusCode.Should().Be(HttpStatusCode.Created);

            (await vmAdmin.PostAsJsonAsync("/api/v1/networks", new CreateNetworkRequest("lan", "vmbr0", null), ApiJson.Options, Ct))
                .StatusCode.Should().Be(HttpStatusCode.Forbidden, "adding a network needs User.Manage");
            (await vmAdmin.DeleteAsync($"/api/v1/networks/{Network.DefaultId}", Ct)).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        }

        using var admin = factory.CreateClient();
        (await CreateOnDefaultAsync(admin, "exposed-by-admin", new { protocol = "Udp", hostAddress = "0.0.0.0", hostPort = 18053, guestPort = 53 }))
            .StatusCode.Should().Be(HttpStatusCode.Created, "an administrator may expose a VM");
        (await admin.DeleteAsync($"/api/v1/networks/{Network.DefaultId}", Ct)).StatusCode.Should().Be(HttpStatusCode.Conflict, "the default network stays");
    }

    [Fact]
    public async Task A_stopped_vms_interfaces_say_it_is_not_running_and_a_hidden_vms_are_not_found()
    {
        using var admin = factory.CreateClient();
        var created = await CreateOnDefaultAsync(admin, "interfaces-stopped");
        created.StatusCode.Should().Be(HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Ct));
        var vm = (await created.ReadAsync<VmResponse>())!;
        (await admin.GetAsync($"/api/v1/vms/{vm.Id}/interfaces", Ct)).StatusCode.Should().Be(HttpStatusCode.Conflict);

        var elsewhere = (await (await CreateOnDefaultAsync(admin, "interfaces-elsewhere")).ReadAsync<VmResponse>())!;
        string strangerId = await TestAccounts.CreateUserAsync(factory.Services, "net-stranger", (BuiltInRoles.VmUserId, elsewhere.Id));
        using var stranger = factory.CreateClient().WithToken(await TestAccounts.CreateTokenAsync(factory.Services, strangerId));
        (await stranger.GetAsync($"/api/v1/vms/{vm.Id}/interfaces", Ct)).StatusCode.Should().Be(HttpStatusCode.NotFound, "a VM one may not see does not exist for them");
        (await stranger.GetAsync($"/api/v1/vms/{elsewhere.Id}/interfaces", Ct)).StatusCode.Should().Be(HttpStatusCode.Conflict, "their own VM is just not running");
    }
}
