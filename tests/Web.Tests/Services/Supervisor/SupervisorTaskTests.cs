using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Web.Data;
using Platform.Web.Extensions;
using Platform.Web.Security;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Supervisor;
using Platform.Web.Services.Tasks;
using Platform.Web.Tests.Fakes;

namespace Platform.Web.Tests.Services.Supervisor;

/// <summary>
/// The supervisor's own starts are tasks in the task log, by "system": each autostart and each restart after a crash,
/// with how it ended and, when it failed, why (with fake VMMs; the task log is the real one on SQLite).
/// </summary>
public sealed class SupervisorTaskTests : IAsyncDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly TestDatabase _db = new();
    private readonly FakeVmmLauncher _launcher = new();
    private readonly FakeVmDefinitions _definitions = new();
    private readonly MemoryVmEventLog _events = new();
    private VmSupervisor? _supervisor;
    private int _failFirst = 1;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private VmSupervisor NewSupervisor()
    {
        _supervisor = new VmSupervisor(_launcher, _definitions, _events, new PlatformOptions { DataDirectory = _db.DataDirectory },
            new SupervisorOptions { CrashRestartDelay = TimeSpan.FromMilliseconds(100), StatsInterval = TimeSpan.FromHours(1) },
            NullLogger<VmSupervisor>.Instance, tasks: _db.Tasks);
        return _supervisor;
    }

    public async ValueTask DisposeAsync()
    {
        if (_supervisor is not null)
        {
            await _supervisor.DisposeAsync();
        }

        _db.Dispose();
    }

    [Fact]
    public async Task Each_autostart_is_a_task_by_the_system_and_a_failed_one_says_why()
    {
        var good = _definitions.Add("auto-good", autostart: true);
        var bad = _definitions.Add("auto-bad", autostart: true);
        _definitions.Add("manual");
        _launcher.Failure = () => Interlocked.Decrement(ref _failFirst) == 0 ? new VmRuntimeException("no kernel at /fake/kernel") : null;

        await ((IHostedService)NewSupervisor()).StartAsync(Ct);

        var tasks = await UntilEndedAsync(2);
        tasks.Should().OnlyContain(t => t.Action == TaskActions.VmAutostart && t.UserName == TaskActor.System);
        tasks.Select(t => t.VmId).Should().BeEquivalentTo([good.Id, bad.Id], "the VM without autostart has no task");
        // Which of the two launched first is the dictionary's order: the one that failed says why.
        var failed = tasks.Single(t => t.Status == TaskEntryStatus.Failed);
        failed.Result.Should().Be("no kernel at /fake/kernel");
        var ok = tasks.Single(t => t.Status == TaskEntryStatus.Ok);
        ok.Result.Should().Contain("is running");
        ok.VmName.Should().BeOneOf("auto-good", "auto-bad");
        (await _db.Tasks.FindAsync(ok.Id, Ct))!.Log.Should().Contain("autostart");
    }

    [Fact]
    public async Task A_restart_after_a_crash_is_a_task_by_the_system_ok_when_it_runs_again_failed_when_it_does_not()
    {
        var supervisor = NewSupervisor();
        var vm = _definitions.Add("phoenix", CrashPolicy.Restart);
        await supervisor.StartAsync(vm.Id, Ct);
        _launcher.Launched.Single().Exit(128 + 9);

        var restarted = (await UntilEndedAsync(1)).Single();
        restarted.Action.Should().Be(TaskActions.VmCrashRestart);
        restarted.UserName.Should().Be(TaskActor.System);
        restarted.VmId.Should().Be(vm.Id);
        restarted.VmName.Should().Be("phoenix");
        restarted.Status.Should().Be(TaskEntryStatus.Ok);
        restarted.Result.Should().Contain("running again");
        supervisor.GetState(vm.Id).Should().Be(VmPowerState.Running);

        // The next crash's restart cannot launch: a failed task with the launcher's reason.
        _launcher.Failure = () => new VmRuntimeException("the disk image is gone");
        _launcher.Launched.Last().Exit(128 + 9);
        var tasks = await UntilEndedAsync(2);
        var failed = tasks.First(t => t.Id != restarted.Id && t.Status != TaskEntryStatus.Running);
        failed.Action.Should().Be(TaskActions.VmCrashRestart);
        failed.Status.Should().Be(TaskEntryStatus.Failed);
        failed.Result.Should().Be("the disk image is gone");
    }

    /// <summary>The task log once <paramref name="count"/> tasks have ended (newest first).</summary>
    private async Task<IReadOnlyList<TaskEntry>> UntilEndedAsync(int count)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            var page = await _db.Tasks.ListAsync(new TaskQuery(), VmVisibility.Everything, Ct);
            if (page.Items.Count(t => t.Status != TaskEntryStatus.Running) >= count)
            {
                return page.Items;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Still waiting for {count} ended tasks; have {string.Join(", ", page.Items.Select(t => $"{t.Action} {t.Status}"))}.");
            }

            await Task.Delay(20, Ct);
        }
    }
}
