using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Endpoints;
using Platform.Web.Services.Limits;
using Platform.Web.Services.Runtime;
using Platform.Web.Tests.Endpoints;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Services.Supervisor;

// Resource limits on real VMMs: the VM's cgroup carries its settings, a guest spinning on every vCPU is held to its
// CPU limit, a live edit rewrites the cgroup, and the group goes with the VMM.
public sealed partial class VmSupervisorTests
{
    private static string ReadCgroup(VmCgroups cgroups, Guid vmId, string controller, string file) =>
        File.ReadAllText(Path.Combine(cgroups.Driver!.DirectoryOf(cgroups.GroupOf(vmId), controller), file)).Trim();

    [Fact]
    public async Task A_started_vm_runs_in_a_cgroup_that_carries_its_limits_and_goes_with_it()
    {
        var app = NewApp();
        using var client = app.CreateClient();
        var cgroups = app.Services.GetRequiredService<VmCgroups>();
        cgroups.Driver.Should().NotBeNull(cgroups.Status);
        var vm = await CreateAsync(client, "limited", "echo", new { cpuLimit = 0.5, cpuUnits = 300, pidsLimit = 200 });

        (await PowerAsync(client, vm.Id, "start")).Should().Be(VmPowerState.Running);
        int pid = PidOf(app, vm.Id);
        cgroups.Driver!.Pids(cgroups.GroupOf(vm.Id)).Should().Contain(pid, "the VMM joined its cgroup before it ran");
        long memory = (64L + cgroups.Options.VmmMemoryOverheadMiB) << 20;
        if (cgroups.Driver.Version == "v1")
        {
            ReadCgroup(cgroups, vm.Id, "memory", "memory.limit_in_bytes").Should().Be(memory.ToString(CultureInfo.InvariantCulture));
            ReadCgroup(cgroups, vm.Id, "cpu", "cpu.cfs_period_us").Should().Be("100000");
            ReadCgroup(cgroups, vm.Id, "cpu", "cpu.cfs_quota_us").Should().Be("50000");
            ReadCgroup(cgroups, vm.Id, "cpu", "cpu.shares").Should().Be("3072");
            ReadCgroup(cgroups, vm.Id, "pids", "pids.max").Should().Be("200");
        }
        else
        {
            ReadCgroup(cgroups, vm.Id, "memory", "memory.max").Should().Be(memory.ToString(CultureInfo.InvariantCulture));
            ReadCgroup(cgroups, vm.Id, "cpu", "cpu.max").Should().Be("50000 100000");
            ReadCgroup(cgroups, vm.Id, "cpu", "cpu.weight").Should().Be("300");
            ReadCgroup(cgroups, vm.Id, "pids", "pids.max").Should().Be("200");
        }

        // A live edit: the cgroup takes the new values at once.
        var fetched = await client.GetAsync($"/api/v1/vms/{vm.Id}", Token);
        var edit = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/vms/{vm.Id}")
        {
            Content = JsonContent.Create(new
            {
                name = "limited", kernelPath = SupervisedAppFactory.TestGuest("echo"), memoryMiB = 64, commandLine = "", onReboot = "Restart",
                cpuLimit = (double?)null, cpuUnits = 100, pidsLimit = (int?)null,
            }, options: ApiJson.Options),
        };
        edit.Headers.IfMatch.Add(fetched.Headers.ETag!);
        var edited = await client.SendAsync(edit, Token);
        edited.StatusCode.Should().Be(HttpStatusCode.OK, await edited.Content.ReadAsStringAsync(Token));
        if (cgroups.Driver.Version == "v1")
        {
            ReadCgroup(cgroups, vm.Id, "cpu", "cpu.cfs_quota_us").Should().Be("-1", "the limit was lifted while the VM runs");
            ReadCgroup(cgroups, vm.Id, "cpu", "cpu.shares").Should().Be("1024");
            ReadCgroup(cgroups, vm.Id, "pids", "pids.max").Should().Be("max");
        }
        else
        {
            ReadCgroup(cgroups, vm.Id, "cpu", "cpu.max").Should().Be("max 100000");
            ReadCgroup(cgroups, vm.Id, "pids", "pids.max").Should().Be("max");
        }

        (await PowerAsync(client, vm.Id, "stop")).Should().Be(VmPowerState.Stopped);
        var gone = Stopwatch.StartNew();
        while (Directory.Exists(cgroups.Driver.DirectoryOf(cgroups.GroupOf(vm.Id), "cpu")))
        {
            gone.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5), "the VM's cgroup is removed when its VMM ends");
            await Task.Delay(20, Token);
        }
    }

    [Fact]
    public async Task A_guest_spinning_on_every_vcpu_is_held_to_its_cpu_limit()
    {
        var app = NewApp();
        using var client = app.CreateClient();
        var cgroups = app.Services.GetRequiredService<VmCgroups>();
        var info = app.Services.GetRequiredService<IVmRuntimeInfo>();
        cgroups.Driver.Should().NotBeNull(cgroups.Status);
        // Two vCPUs spinning could use two CPUs; the limit is a quarter of one. The highest weight keeps a busy host
        // from starving the VM below its limit, so what is measured is the limit, not the host's load.
        const double Limit = 0.25;
        var vm = await CreateAsync(client, "spinner", "smp", new { vcpuCount = 2, commandLine = "spin=1", cpuLimit = Limit, cpuUnits = 10000 });
        (await PowerAsync(client, vm.Id, "start")).Should().Be(VmPowerState.Running);
        await ReadSerialUntilAsync(info, vm.Id, "smp: spinning on 2 CPUs");

        var before = cgroups.Stats(vm.Id)!;
        var clock = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(3), Token);
        var after = cgroups.Stats(vm.Id)!;
        double cpus = (after.CpuUsageNanoseconds - before.CpuUsageNanoseconds) / 1e9 / clock.Elapsed.TotalSeconds;
        TestContext.Current.TestOutputHelper!.WriteLine(
            $"CPU use {cpus:0.###} CPUs against a limit of {Limit}; throttled in {after.ThrottledPeriods - before.ThrottledPeriods} of {after.Periods - before.Periods} periods");
        cpus.Should().BeInRange(Limit * 0.8, Limit * 1.1, "the cgroup holds two spinning vCPUs to a quarter of a CPU");
        (after.ThrottledPeriods - before.ThrottledPeriods).Should().BePositive("the limit, not the guest, is what held it back");

        // The Summary tab's source says so too.
        after.ThrottledNanoseconds.Should().BePositive();
        (await PowerAsync(client, vm.Id, "stop")).Should().Be(VmPowerState.Stopped);
    }
}
