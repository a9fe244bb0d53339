using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Data;
using Platform.Web.Endpoints;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Supervisor;
using Platform.Web.Services.Vms;
using Platform.Web.Tests.Endpoints;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Cluster;

/// <summary>
/// VMs owned by a host, driven from another: two hosts with real supervisors (<see cref="ClusterAppFactory"/>,
/// supervised) on one real PostgreSQL. A VM of host-b started and stopped through host-a's API runs under host-b's
/// supervisor, and host-a's runtime hears its changes (a host that joins later learns its state); a VM whose host is
/// gone is unreachable, never Stopped.
/// </summary>
[Collection(SharedPostgres.Name)]
public sealed class ClusterVmTests(TestPostgres postgres)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_vm_of_host_b_runs_there_when_started_through_host_a_and_host_a_sees_its_states()
    {
        string database = await postgres.CreateDatabaseAsync();
        await using var hostA = new ClusterAppFactory(database, "host-a", supervised: true);
        string token = await TestAccounts.CreateTokenAsync(hostA.Services, await TestAccounts.AdminIdAsync(hostA.Services));
        await using var hostB = new ClusterAppFactory(database, "host-b", supervised: true);
        using var onA = hostA.CreateClient().WithToken(token);
        _ = hostB.Services;
        await WaitForActiveHostsAsync(onA, 2);

        var seenOnA = new ConcurrentQueue<VmStateChanged>();
        using var subscription = hostA.Services.GetRequiredService<IVmRuntime>().Subscribe(seenOnA.Enqueue);
        var loggedOnA = new ConcurrentQueue<VmEvent>();
        using var log = hostA.Services.GetRequiredService<IVmEventLog>().Subscribe(loggedOnA.Enqueue);
        var vm = await CreateAsync(onA, "remote-echo", host: "host-b");
        vm.GetProperty("host").GetString().Should().Be("host-b");
        var id = vm.GetProperty("id").GetGuid();

        var supervisorB = hostB.Services.GetRequiredService<VmSupervisor>();
        var supervisorA = hostA.Services.GetRequiredService<VmSupervisor>();
        try
        {
            (await PowerAsync(onA, id, "start")).Should().Be(VmPowerState.Running, "the answer carries the state host-b's supervisor reached");
            supervisorB.GetState(id).Should().Be(VmPowerState.Running, "host-b's supervisor runs it");
            supervisorA.GetState(id).Should().Be(VmPowerState.Stopped, "host-a runs nothing for it");
            Directory.Exists(supervisorB.RuntimeDirectoryOf(id)).Should().BeTrue("its VMM's runtime folder is on host-b");
            Directory.Exists(supervisorA.RuntimeDirectoryOf(id)).Should().BeFalse();
            (await StateOnAsync(onA, id)).Should().Be("Running");
            await WaitUntilAsync(() => seenOnA.Any(c => c.VmId == id && c.State == VmPowerState.Running), "host-a's subscribers hear host-b's Running");
            seenOnA.Should().Contain(c => c.VmId == id && c.State == VmPowerState.Starting, "every change crosses, Starting first");

            var stats = await hostA.Services.GetRequiredService<IVmRuntimeInfo>().GetStatsAsync(id, Ct);
            stats.Should().NotBeNull("host-a reads the counters of host-b's VMM through host-b's agent");
            stats!.GuestMemoryBytes.Should().Be(64UL << 20);

            await using (var hostC = new ClusterAppFactory(database, "host-c", supervised: true))
            {
                var runtimeC = hostC.Services.GetRequiredService<IVmRuntime>();
                await WaitUntilAsync(() => runtimeC.GetState(id) == VmPowerState.Running, "a host that joins asks the others for their VMs' states");
                using var onC = hostC.CreateClient().WithToken(token);
                (await StateOnAsync(onC, id)).Should().Be("Running");
            }

            (await PowerAsync(onA, id, "stop")).Should().Be(VmPowerState.Stopped);
            supervisorB.GetState(id).Should().Be(VmPowerState.Stopped);
            (await StateOnAsync(onA, id)).Should().Be("Stopped");
            await WaitUntilAsync(() => seenOnA.Any(c => c.VmId == id && c.State == VmPowerState.Stopped), "host-a's subscribers hear the stop");
            await WaitUntilAsync(
                () => loggedOnA.Any(e => e.VmId == id && e.Message.StartsWith("remote-echo stopped:", StringComparison.Ordinal)),
                "the entry host-b's supervisor wrote to the shared event log reaches host-a's live readers");
        }
        finally
        {
            // A failed check must not leave host-b's VMM running after the test.
            if (supervisorB.GetState(id) != VmPowerState.Stopped)
            {
                await supervisorB.StopAsync(id, CancellationToken.None);
            }
        }

        var again = await onA.PostAsync($"/api/v1/vms/{id}/stop", null, Ct);
        again.StatusCode.Should().Be(HttpStatusCode.Conflict, "host-b's supervisor refused it, and the refusal crosses as it is");
        (await again.Content.ReadAsStringAsync(Ct)).Should().Contain("The VM is not running.");
    }

    [Fact]
    public async Task A_vm_whose_host_stopped_is_unreachable_and_its_commands_are_refused_as_unavailable()
    {
        string database = await postgres.CreateDatabaseAsync();
        await using var hostA = new ClusterAppFactory(database, "host-a", supervised: true);
        string token = await TestAccounts.CreateTokenAsync(hostA.Services, await TestAccounts.AdminIdAsync(hostA.Services));
        await using var hostB = new ClusterAppFactory(database, "host-b", supervised: true);
        using var onA = hostA.CreateClient().WithToken(token);
        _ = hostB.Services;
        await WaitForActiveHostsAsync(onA, 2);

        var unknown = await onA.PostAsJsonAsync("/api/v1/vms", Definition("nowhere", "host-z"), ApiJson.Options, Ct);
        unknown.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await unknown.Content.ReadAsStringAsync(Ct)).Should().Contain("host-z is not an active host");

        var id = (await CreateAsync(onA, "orphan", host: "host-b")).GetProperty("id").GetGuid();
        var mine = (await CreateAsync(onA, "at-home", host: null)).GetProperty("id").GetGuid();
        (await StateOnAsync(onA, id)).Should().Be("Stopped");
        var seenOnA = new ConcurrentQueue<VmStateChanged>();
        using var subscription = hostA.Services.GetRequiredService<IVmRuntime>().Subscribe(seenOnA.Enqueue);

        await hostB.DisposeAsync();

        var deadline = DateTime.UtcNow + Timeout;
        while (await StateOnAsync(onA, id) != "HostUnreachable" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250, Ct);
        }

        (await StateOnAsync(onA, id)).Should().Be("HostUnreachable", "a VM whose host left is not known to be stopped");
        (await StateOnAsync(onA, mine)).Should().Be("Stopped", "host-a's own VMs are as they were");
        await WaitUntilAsync(() => seenOnA.Any(c => c.VmId == id && c.State == VmPowerState.HostUnreachable), "host-a's subscribers are told");

        var start = await onA.PostAsync($"/api/v1/vms/{id}/start", null, Ct);
        start.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await start.Content.ReadAsStringAsync(Ct)).Should().Contain("host host-b is unreachable");
    }

    [Fact]
    public async Task Each_host_autostarts_only_its_own_vms()
    {
        string database = await postgres.CreateDatabaseAsync();
        await using var first = new ClusterAppFactory(database, "host-a", supervised: true);
        string token = await TestAccounts.CreateTokenAsync(first.Services, await TestAccounts.AdminIdAsync(first.Services));
        await using var hostB = new ClusterAppFactory(database, "host-b", supervised: true);
        Guid own, others;
        using (var onFirst = first.CreateClient().WithToken(token))
        {
            _ = hostB.Services;
            await WaitForActiveHostsAsync(onFirst, 2);
            own = (await CreateAsync(onFirst, "auto-a", host: "host-a", autostart: true)).GetProperty("id").GetGuid();
            others = (await CreateAsync(onFirst, "auto-b", host: "host-b", autostart: true)).GetProperty("id").GetGuid();
        }

        await first.DisposeAsync();
        await using var hostA = new ClusterAppFactory(database, "host-a", supervised: true);
        var supervisorA = hostA.Services.GetRequiredService<VmSupervisor>();
        await WaitUntilAsync(() => supervisorA.GetState(own) == VmPowerState.Running, "host-a starts its own autostart VM when it starts");
        try
        {
            // Autostart goes through the VMs one after the other (auto-a first): a start of auto-b would be under way by now.
            await Task.Delay(TimeSpan.FromSeconds(2), Ct);
            supervisorA.GetState(others).Should().Be(VmPowerState.Stopped, "host-b's autostart VM is host-b's to start, not host-a's");
        }
        finally
        {
            await supervisorA.StopAsync(own, Ct);
        }
    }

    private static Dictionary<string, object?> Definition(string name, string? host, bool autostart = false) => new()
    {
        ["name"] = name, ["kernelPath"] = SupervisedAppFactory.TestGuest("echo"), ["memoryMiB"] = 64, ["commandLine"] = "", ["host"] = host,
        ["autostart"] = autostart,
    };

    private static async Task<JsonElement> CreateAsync(HttpClient client, string name, string? host, bool autostart = false)
    {
        var response = await client.PostAsJsonAsync("/api/v1/vms", Definition(name, host, autostart), ApiJson.Options, Ct);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Ct));
        return await response.ReadJsonAsync();
    }

    private static async Task<VmPowerState> PowerAsync(HttpClient client, Guid id, string action)
    {
        var response = await client.PostAsync($"/api/v1/vms/{id}/{action}", null, Ct);
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Ct));
        return (await response.ReadAsync<VmPowerResponse>())!.State;
    }

    private static async Task<string?> StateOnAsync(HttpClient client, Guid id)
    {
        var response = await client.GetAsync($"/api/v1/vms/{id}", Ct);
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Ct));
        return (await response.ReadJsonAsync()).GetProperty("state").GetString();
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string because)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, Ct);
        }

        condition().Should().BeTrue(because);
    }

    private static async Task WaitForActiveHostsAsync(HttpClient client, int count)
    {
        var deadline = DateTime.UtcNow + Timeout;
        int active;
        do
        {
            var response = await client.GetAsync("/api/v1/hosts", Ct);
            active = (await response.ReadJsonAsync()).EnumerateArray().Count(h => h.GetProperty("state").GetString() == "Active");
            if (active >= count)
            {
                return;
            }

            await Task.Delay(250, Ct);
        }
        while (DateTime.UtcNow < deadline);

        active.Should().Be(count, $"the hosts join within {Timeout}");
    }
}
