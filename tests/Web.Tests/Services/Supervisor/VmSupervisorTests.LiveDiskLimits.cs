using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Endpoints;
using Platform.Web.Services.Runtime;
using Platform.Web.Tests.Endpoints;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Services.Supervisor;

// A disk's I/O limits edited through the API while its VM runs (jailed): the dashboard sends them to the VMM over the
// control socket (block_set_io_throttle), whose query-stats shows them in force at once.
public sealed partial class VmSupervisorTests
{
    [Fact]
    public async Task Disk_limits_changed_while_the_vm_runs_take_hold_in_its_vmm_at_once()
    {
        var app = NewApp();
        using var client = app.CreateClient();
        var info = app.Services.GetRequiredService<IVmRuntimeInfo>();
        string image = Path.Combine(_dataDirectory, "live-limits.img");
        await File.WriteAllBytesAsync(image, new byte[1 << 20], Token);
        var vm = await CreateAsync(client, "live-disk-limits", "echo", new { disks = new[] { new { path = image, maxIops = 500 } } });
        (await PowerAsync(client, vm.Id, "start")).Should().Be(VmPowerState.Running);
        var before = (await info.GetStatsAsync(vm.Id, Token))!.Devices.Single(d => d.Name == "disk0").Counters;
        (before["limit_bps"], before["limit_iops"]).Should().Be((0L, 500L), "the limits it started with");

        var fetched = await client.GetAsync($"/api/v1/vms/{vm.Id}", Token);
        var edit = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/vms/{vm.Id}")
        {
            Content = JsonContent.Create(new
            {
                name = "live-disk-limits", kernelPath = SupervisedAppFactory.TestGuest("echo"), memoryMiB = 64, commandLine = "", onReboot = "Restart",
                disks = new[] { new { path = image, maxBytesPerSecond = (long?)(1 << 20), maxIops = (int?)null } },
            }, options: ApiJson.Options),
        };
        edit.Headers.IfMatch.Add(fetched.Headers.ETag!);
        var edited = await client.SendAsync(edit, Token);
        edited.StatusCode.Should().Be(HttpStatusCode.OK, await edited.Content.ReadAsStringAsync(Token));

        var after = (await info.GetStatsAsync(vm.Id, Token))!.Devices.Single(d => d.Name == "disk0").Counters;
        (after["limit_bps"], after["limit_iops"]).Should().Be((1L << 20, 0L), "the new limits are in force in the running VMM");
        await WaitForEventAsync(client, vm.Id, m => m.Contains("Its disk limits apply now.", StringComparison.Ordinal));
        (await PowerAsync(client, vm.Id, "stop")).Should().Be(VmPowerState.Stopped);
    }
}
