using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Data;
using Platform.Web.Endpoints;
using Platform.Web.Security;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;
using Platform.Web.Tests.Fakes;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Endpoints;

/// <summary>
/// <c>POST /api/v1/vms/{id}/nics/{index}/link</c> and the NICs' <c>linkUp</c> in <c>GET /api/v1/vms/{id}</c>, with a VMM
/// played by <see cref="FakeRunningNics"/> (the real VMM is in <c>VmSupervisorTests.NicLink</c>).
/// </summary>
public sealed class VmNicLinkEndpointsTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    private async Task<VmResponse> CreateWithNicsAsync(HttpClient client, string name, int nics)
    {
        var response = await client.PostAsJsonAsync("/api/v1/vms", new
        {
            name, kernelPath = "/boot/vmlinuz", nics = Enumerable.Range(0, nics).Select(_ => new { networkId = Network.DefaultId }).ToArray(),
        }, ApiJson.Options, _ct);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(_ct));
        return (await response.ReadAsync<VmResponse>())!;
    }

    private Task<HttpResponseMessage> SetLinkAsync(HttpClient client, Guid vmId, int index, object body) =>
        client.PostAsJsonAsync($"/api/v1/vms/{vmId}/nics/{index}/link", body, ApiJson.Options, _ct);

    private async Task<IReadOnlyList<bool?>> LinksAsync(HttpClient client, Guid vmId) =>
        [.. (await client.GetFromJsonAsync<VmResponse>($"/api/v1/vms/{vmId}", ApiJson.Options, _ct))!.Nics.Select(n => n.LinkUp)];

    [Fact]
    public async Task On_a_running_vm_the_cable_is_pulled_and_plugged_back_through_the_vmm_and_get_shows_it()
    {
        var nics = new FakeRunningNics();
        using var app = factory.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<IRunningNics>(nics)));
        using var client = app.CreateClient();
        var vm = await CreateWithNicsAsync(client, "link-live", 2);
        factory.Runtime.SetState(vm.Id, VmPowerState.Running);
        nics.Run(vm.Id, 2);
        (await LinksAsync(client, vm.Id)).Should().Equal(true, true);

        var pulled = await SetLinkAsync(client, vm.Id, 1, new { up = false });

        pulled.StatusCode.Should().Be(HttpStatusCode.OK, await pulled.Content.ReadAsStringAsync(_ct));
        (await pulled.ReadAsync<VmNicLinkResponse>()).Should().Be(new VmNicLinkResponse(vm.Id, 1, LinkUp: false));
        (await LinksAsync(client, vm.Id)).Should().Equal([true, false], "only NIC 1's cable is out");

        (await SetLinkAsync(client, vm.Id, 1, new { up = true })).StatusCode.Should().Be(HttpStatusCode.OK);
        (await LinksAsync(client, vm.Id)).Should().Equal(true, true);
        nics.Calls.Should().Equal($"link {vm.Id} 1 down", $"link {vm.Id} 1 up");

        var events = (await client.GetFromJsonAsync<VmEventPageResponse>($"/api/v1/vms/{vm.Id}/events", ApiJson.Options, _ct))!;
        events.Items.Select(e => e.Message).Should().Contain(m => m.StartsWith("Pulled out the cable of NIC 2", StringComparison.Ordinal));
        var audit = (await client.GetFromJsonAsync<AuditPageResponse>($"/api/v1/audit?vmId={vm.Id}&take=50", ApiJson.Options, _ct))!;
        audit.Items.Where(a => a.Action == AuditActions.NicLink).Should().HaveCount(2).And.OnlyContain(a => a.Result == AuditResult.Succeeded);
        factory.Runtime.SetState(vm.Id, VmPowerState.Stopped);
    }

    [Fact]
    public async Task A_stopped_vm_is_409_a_missing_nic_404_and_a_body_without_up_400_and_nothing_reaches_the_vmm()
    {
        var nics = new FakeRunningNics();
        using var app = factory.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<IRunningNics>(nics)));
        using var client = app.CreateClient();
        var vm = await CreateWithNicsAsync(client, "link-refused", 1);

        var stopped = await SetLinkAsync(client, vm.Id, 0, new { up = false });
        stopped.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await stopped.ReadJsonAsync()).GetProperty("detail").GetString().Should().Contain("link-refused is stopped").And.Contain("only while it runs");
        (await LinksAsync(client, vm.Id)).Should().Equal([null], "a stopped VM has no cable to report");

        factory.Runtime.SetState(vm.Id, VmPowerState.Running);
        nics.Run(vm.Id, 1);
        var missing = await SetLinkAsync(client, vm.Id, 3, new { up = false });
        missing.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await missing.ReadJsonAsync()).GetProperty("detail").GetString().Should().Contain("has no NIC at index 3");
        (await SetLinkAsync(client, vm.Id, 0, new { })).StatusCode.Should().Be(HttpStatusCode.BadRequest, "an empty body must not pull the cable");
        (await SetLinkAsync(client, Guid.NewGuid(), 0, new { up = false })).StatusCode.Should().Be(HttpStatusCode.NotFound);

        nics.Calls.Should().BeEmpty();
        (await LinksAsync(client, vm.Id)).Should().Equal(true);
        factory.Runtime.SetState(vm.Id, VmPowerState.Stopped);
    }

    [Fact]
    public async Task A_change_the_vmm_refuses_is_409_with_its_reason_and_logged_as_failed()
    {
        var nics = new FakeRunningNics { Refuse = "The running VM does not have that NIC (no NIC named 'net0': the VM has none); restart the VM first." };
        using var app = factory.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<IRunningNics>(nics)));
        using var client = app.CreateClient();
        var vm = await CreateWithNicsAsync(client, "link-vmm-refuses", 1);
        factory.Runtime.SetState(vm.Id, VmPowerState.Running);
        nics.Run(vm.Id, 1);

        var refused = await SetLinkAsync(client, vm.Id, 0, new { up = false });

        refused.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await refused.ReadJsonAsync()).GetProperty("detail").GetString().Should().Contain("restart the VM first");
        (await LinksAsync(client, vm.Id)).Should().Equal(true);
        var events = (await client.GetFromJsonAsync<VmEventPageResponse>($"/api/v1/vms/{vm.Id}/events", ApiJson.Options, _ct))!;
        events.Items.Should().Contain(e => e.Kind == VmEventKinds.NicLink && e.Result == VmEventResult.Failed);
        factory.Runtime.SetState(vm.Id, VmPowerState.Stopped);
    }
}
