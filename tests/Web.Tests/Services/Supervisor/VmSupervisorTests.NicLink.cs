using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Data;
using Platform.Web.Endpoints;
using Platform.Web.Services.Runtime;
using Platform.Web.Tests.Endpoints;

namespace Platform.Web.Tests.Services.Supervisor;

// A NIC's cable pulled out and plugged back in through the API on a real, jailed VMM with a passt NIC.
public sealed partial class VmSupervisorTests
{
    /// <summary>NIC 0's cable as GET /vms/{id} shows it, once the running VMM reports it.</summary>
    private static async Task<bool> LinkUpAsync(HttpClient client, Guid vmId)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var vm = (await client.GetFromJsonAsync<VmResponse>($"/api/v1/vms/{vmId}", ApiJson.Options, Token))!;
            if (vm.Nics.Single().LinkUp is { } up)
            {
                return up;
            }

            waited.Elapsed.Should().BeLessThan(Timeout, "a running VMM reports its NICs");
            await Task.Delay(20, Token);
        }
    }

    private static async Task<long> VmmLinkUpCounterAsync(IVmRuntimeInfo info, Guid vmId) =>
        (await info.GetStatsAsync(vmId, Token))!.Devices.Single(d => d.Name == "net0").Counters["link_up"];

    [Fact]
    public async Task A_running_vms_nic_cable_is_pulled_out_and_plugged_back_in_through_the_api()
    {
        var app = NewApp();
        using var client = app.CreateClient();
        var info = app.Services.GetRequiredService<IVmRuntimeInfo>();
        var vm = await CreateAsync(client, "nic-link", "echo", new { nics = new[] { new { networkId = Network.DefaultId } } });

        var stopped = await client.PostAsJsonAsync($"/api/v1/vms/{vm.Id}/nics/0/link", new { up = false }, ApiJson.Options, Token);
        stopped.StatusCode.Should().Be(HttpStatusCode.Conflict, "a stopped VM has no cable to pull");

        (await PowerAsync(client, vm.Id, "start")).Should().Be(VmPowerState.Running);
        await ReadSerialUntilAsync(info, vm.Id, "READY");
        (await LinkUpAsync(client, vm.Id)).Should().BeTrue("every start begins with the cable plugged in");

        var pulled = await client.PostAsJsonAsync($"/api/v1/vms/{vm.Id}/nics/0/link", new { up = false }, ApiJson.Options, Token);

        pulled.StatusCode.Should().Be(HttpStatusCode.OK, await pulled.Content.ReadAsStringAsync(Token));
        (await pulled.ReadAsync<VmNicLinkResponse>())!.LinkUp.Should().BeFalse();
        (await VmmLinkUpCounterAsync(info, vm.Id)).Should().Be(0, "the VMM's virtio-net reports the link down");
        (await LinkUpAsync(client, vm.Id)).Should().BeFalse();
        (await client.PostAsJsonAsync($"/api/v1/vms/{vm.Id}/nics/1/link", new { up = false }, ApiJson.Options, Token))
            .StatusCode.Should().Be(HttpStatusCode.NotFound, "the VM has one NIC");

        var plugged = await client.PostAsJsonAsync($"/api/v1/vms/{vm.Id}/nics/0/link", new { up = true }, ApiJson.Options, Token);

        plugged.StatusCode.Should().Be(HttpStatusCode.OK, await plugged.Content.ReadAsStringAsync(Token));
        (await VmmLinkUpCounterAsync(info, vm.Id)).Should().Be(1);
        (await LinkUpAsync(client, vm.Id)).Should().BeTrue();
        (await PowerAsync(client, vm.Id, "stop")).Should().Be(VmPowerState.Stopped);
        (await client.GetFromJsonAsync<VmResponse>($"/api/v1/vms/{vm.Id}", ApiJson.Options, Token))!.Nics.Single().LinkUp.Should().BeNull("a stopped VM has no cable");
    }
}
