using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Web.Extensions;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Supervisor;
using Platform.Web.Tests.Fakes;

namespace Platform.Web.Tests.Services.Supervisor;

/// <summary>
/// A VM's counters are read as often as someone needs them (issue 22): every stats interval while a page or hub
/// client watches it, otherwise only when the history's tick reads every VM. Counted on fake VMMs, not timed.
/// </summary>
public sealed class VmStatsCadenceTests : IAsyncDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("stats-cadence-").FullName;
    private readonly FakeVmmLauncher _launcher = new();
    private readonly FakeVmDefinitions _definitions = new();
    private readonly VmSupervisor _supervisor;

    public VmStatsCadenceTests()
    {
        _supervisor = new VmSupervisor(_launcher, _definitions, new MemoryVmEventLog(), new PlatformOptions { DataDirectory = _data },
            new SupervisorOptions { StatsInterval = TimeSpan.FromMilliseconds(20) }, NullLogger<VmSupervisor>.Instance);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask DisposeAsync()
    {
        await _supervisor.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public async Task Only_a_watched_vm_is_read_every_interval_and_the_history_tick_reads_every_running_vm_once()
    {
        await ((IHostedService)_supervisor).StartAsync(Ct);
        IVmRuntimeInfo info = _supervisor;
        var watched = _definitions.Add("watched");
        var unwatched = _definitions.Add("unwatched");
        await _supervisor.StartAsync(watched.Id, Ct);
        await _supervisor.StartAsync(unwatched.Id, Ct);
        var vmms = _launcher.Launched.ToArray();
        var (watchedVmm, unwatchedVmm) = (vmms[0], vmms[1]);
        var heard = new ConcurrentQueue<Guid>();
        using var all = info.SubscribeStats(sample => heard.Enqueue(sample.VmId));

        using (info.SubscribeStats(watched.Id, _ => { }))
        {
            await UntilAsync(() => watchedVmm.StatsQueries >= 10, "ten readings of the watched VM");
            unwatchedVmm.StatsQueries.Should().Be(0, "nobody watches it and no history tick came");
            heard.Should().OnlyContain(id => id == watched.Id, "every subscriber hears the watched VM's readings");
        }

        // The last watch ended: no more readings between ticks.
        await Task.Delay(100, Ct);
        int after = watchedVmm.StatsQueries;
        await Task.Delay(300, Ct);
        watchedVmm.StatsQueries.Should().Be(after, "a VM nobody watches any more is not read every interval");

        heard.Clear();
        await info.SampleAllAsync(Ct);
        unwatchedVmm.StatsQueries.Should().Be(1);
        watchedVmm.StatsQueries.Should().Be(after + 1);
        heard.Should().BeEquivalentTo([watched.Id, unwatched.Id], "the tick's readings reach the subscribers too");
    }

    [Fact]
    public async Task Two_watchers_of_one_vm_keep_it_live_until_both_are_gone()
    {
        await ((IHostedService)_supervisor).StartAsync(Ct);
        IVmRuntimeInfo info = _supervisor;
        var vm = _definitions.Add("shared");
        await _supervisor.StartAsync(vm.Id, Ct);
        var vmm = _launcher.Launched.Single();

        var first = info.WatchStats(vm.Id);
        var second = info.WatchStats(vm.Id);
        first.Dispose();
        first.Dispose(); // a second Dispose of the same watch does not end the other's
        int before = vmm.StatsQueries;
        await UntilAsync(() => vmm.StatsQueries >= before + 5, "readings while the second watcher stays");

        second.Dispose();
        await Task.Delay(100, Ct);
        int after = vmm.StatsQueries;
        await Task.Delay(300, Ct);
        vmm.StatsQueries.Should().Be(after);
    }

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Still waiting for {what}.");
            }

            await Task.Delay(10, Ct);
        }
    }
}
