using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Services.Runtime;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Services.Supervisor;

// A running VM's runtime folder deleted under it (rm -rf run/{id}): the supervisor still controls its VMM by pid.
public sealed partial class VmSupervisorTests
{
    [Fact]
    public async Task A_vm_whose_runtime_folder_was_deleted_is_still_stopped_and_can_start_again()
    {
        var app = NewApp();
        using var client = app.CreateClient();
        var runtime = app.Services.GetRequiredService<IVmRuntime>();
        var vm = await CreateAsync(client, "folder-lost", "echo");
        await PowerAsync(client, vm.Id, "start");
        int pid = PidOf(app, vm.Id);

        Directory.Delete(Path.Combine(app.DataDirectory, "run", vm.Id.ToString("N")), recursive: true);

        await WaitForEventAsync(client, vm.Id, m => m.Contains("runtime folder", StringComparison.Ordinal));
        runtime.GetState(vm.Id).Should().Be(VmPowerState.Running, "the VMM still runs the guest");
        foreach (string path in new[] { $"/api/v1/vms/{vm.Id}", "/api/v1/vms", $"/api/v1/vms/{vm.Id}/interfaces", $"/api/v1/vms/{vm.Id}/events" })
        {
            var response = await client.GetAsync(path, Token);
            ((int)response.StatusCode).Should().BeLessThan(500, $"{path} must not fail for a VM whose folder is gone");
        }

        var clock = Stopwatch.StartNew();
        (await PowerAsync(client, vm.Id, "stop")).Should().Be(VmPowerState.Stopped);
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10), "Stop ends the VMM by its pid when it cannot be asked");
        File.Exists($"/proc/{pid}/stat").Should().BeFalse("the VMM process has ended");
        runtime.GetState(vm.Id).Should().Be(VmPowerState.Stopped);

        (await PowerAsync(client, vm.Id, "start")).Should().Be(VmPowerState.Running, "the folder is made again");
        var again = await client.PostAsync($"/api/v1/vms/{vm.Id}/stop", null, Token);
        again.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_vmm_that_lost_its_folder_and_its_control_connection_is_found_by_pid_and_stopped()
    {
        var app = NewApp();
        using var client = app.CreateClient();
        var runtime = app.Services.GetRequiredService<IVmRuntime>();
        var vm = await CreateAsync(client, "folder-and-socket-lost", "echo");
        await PowerAsync(client, vm.Id, "start");
        int pid = PidOf(app, vm.Id);
        Directory.Delete(Path.Combine(app.DataDirectory, "run", vm.Id.ToString("N")), recursive: true);

        // Pausing the VMM with SIGSTOP makes it answer nothing: neither quit nor a new connection can reach it.
        using (var kill = Process.Start("kill", ["-STOP", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync(Token);
        }

        var clock = Stopwatch.StartNew();
        var stop = await client.PostAsync($"/api/v1/vms/{vm.Id}/stop", null, Token);
        ((int)stop.StatusCode).Should().BeLessThan(500, await stop.Content.ReadAsStringAsync(Token));
        await WaitForStateAsync(runtime, vm.Id, VmPowerState.Stopped, TimeSpan.FromSeconds(15));
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(15));
        await WaitUntilAsync(() => !File.Exists($"/proc/{pid}/stat"));
        (await PowerAsync(client, vm.Id, "start")).Should().Be(VmPowerState.Running);
        await PowerAsync(client, vm.Id, "stop");
    }
}
