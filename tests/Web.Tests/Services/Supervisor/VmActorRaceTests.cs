using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Web.Data;
using Platform.Web.Extensions;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Supervisor;
using Platform.Web.Tests.Fakes;

namespace Platform.Web.Tests.Services.Supervisor;

/// <summary>
/// The races the real-process tests only sample, played move by move with fake VMMs: each VM's actor must end in
/// the state a user would expect, launch no VMM twice, and never undo a user's Stop.
/// </summary>
public sealed class VmActorRaceTests : IAsyncDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly string _data = Directory.CreateTempSubdirectory("actor-races-").FullName;
    private readonly FakeVmmLauncher _launcher = new();
    private readonly FakeVmDefinitions _definitions = new();
    private readonly MemoryVmEventLog _events = new();
    private readonly List<VmSupervisor> _supervisors = [];
    private readonly ConcurrentQueue<VmStateChanged> _changes = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private VmSupervisor NewSupervisor(TimeSpan? restartDelay = null)
    {
        var supervisor = new VmSupervisor(_launcher, _definitions, _events, new PlatformOptions { DataDirectory = _data },
            new SupervisorOptions
            {
                CrashRestartDelay = restartDelay ?? TimeSpan.FromMilliseconds(200), QuitTimeout = TimeSpan.FromMilliseconds(300),
                StatsInterval = TimeSpan.FromHours(1),
            },
            NullLogger<VmSupervisor>.Instance);
        supervisor.Subscribe(_changes.Enqueue);
        _supervisors.Add(supervisor);
        return supervisor;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var supervisor in _supervisors)
        {
            await supervisor.DisposeAsync();
        }

        Directory.Delete(_data, recursive: true);
    }

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Still waiting for {what}.");
            }

            await Task.Delay(10, Ct);
        }
    }

    [Fact]
    public async Task A_stop_during_a_start_calls_the_launch_off_and_the_vm_ends_stopped()
    {
        var supervisor = NewSupervisor();
        var vm = _definitions.Add("slow");
        _launcher.Gate = new TaskCompletionSource();

        var start = supervisor.StartAsync(vm.Id, Ct);
        await UntilAsync(() => supervisor.GetState(vm.Id) == VmPowerState.Starting, "Starting");
        await supervisor.StopAsync(vm.Id, Ct).WaitAsync(Wait, Ct);

        (await start.Awaiting(s => s.WaitAsync(Wait, Ct)).Should().ThrowAsync<VmRuntimeException>()).WithMessage("*called off*");
        _launcher.CancelledLaunches.Should().Be(1, "the launch was told to give up (the real one then kills what it started)");
        _launcher.Launches.Should().Be(0);
        supervisor.GetState(vm.Id).Should().Be(VmPowerState.Stopped);
    }

    [Fact]
    public async Task A_vmm_that_came_up_as_the_stop_arrived_is_ended_at_once()
    {
        var supervisor = NewSupervisor();
        var vm = _definitions.Add("late");
        _launcher.Gate = new TaskCompletionSource();
        _launcher.IgnoreCancellation = true;

        var start = supervisor.StartAsync(vm.Id, Ct);
        await UntilAsync(() => supervisor.GetState(vm.Id) == VmPowerState.Starting, "Starting");
        var stop = supervisor.StopAsync(vm.Id, Ct);
        _launcher.Gate.SetResult();
        await stop.WaitAsync(Wait, Ct);

        await start.Awaiting(s => s.WaitAsync(Wait, Ct)).Should().ThrowAsync<VmRuntimeException>();
        _launcher.Launched.Single().Gone.Should().BeTrue("a VMM started for a VM the user stopped must not stay up");
        supervisor.GetState(vm.Id).Should().Be(VmPowerState.Stopped);
    }

    [Fact]
    public async Task Two_users_pressing_start_at_once_launch_one_vmm_and_both_are_told_it_runs()
    {
        var supervisor = NewSupervisor();
        var vm = _definitions.Add("popular");
        _launcher.Gate = new TaskCompletionSource();

        var first = supervisor.StartAsync(vm.Id, Ct);
        var second = supervisor.StartAsync(vm.Id, Ct);
        await UntilAsync(() => supervisor.GetState(vm.Id) == VmPowerState.Starting, "Starting");
        _launcher.Gate.SetResult();
        await Task.WhenAll(first, second).WaitAsync(Wait, Ct);

        _launcher.Launches.Should().Be(1);
        supervisor.GetState(vm.Id).Should().Be(VmPowerState.Running);
        var third = () => supervisor.StartAsync(vm.Id, Ct);
        (await third.Should().ThrowAsync<VmRuntimeException>()).WithMessage("The VM is already running.");
    }

    [Fact]
    public async Task A_crash_during_a_stop_is_the_stop_the_user_asked_for_and_is_never_restarted()
    {
        var supervisor = NewSupervisor();
        var vm = _definitions.Add("stuck", CrashPolicy.Restart);
        await supervisor.StartAsync(vm.Id, Ct);
        var vmm = _launcher.Launched.Single();
        vmm.ObeysQuit = false;

        var stop = supervisor.StopAsync(vm.Id, Ct);
        await UntilAsync(() => vmm.Quits == 1, "the quit");
        vmm.Exit(128 + 11); // It dies of SIGSEGV on its way out.
        await stop.WaitAsync(Wait, Ct);
        await Task.Delay(600, Ct); // three restart delays

        supervisor.GetState(vm.Id).Should().Be(VmPowerState.Stopped);
        _launcher.Launches.Should().Be(1, "a user's Stop is never undone by the on-crash policy");
        _changes.Should().NotContain(c => c.VmId == vm.Id && c.State == VmPowerState.Restarting);
    }

    [Fact]
    public async Task A_vmm_that_ignores_its_quit_is_killed_and_the_vm_stops()
    {
        var supervisor = NewSupervisor();
        var vm = _definitions.Add("deaf");
        await supervisor.StartAsync(vm.Id, Ct);
        var vmm = _launcher.Launched.Single();
        vmm.ObeysQuit = false;

        await supervisor.StopAsync(vm.Id, Ct).WaitAsync(Wait, Ct);

        vmm.Kills.Should().Be(1);
        supervisor.GetState(vm.Id).Should().Be(VmPowerState.Stopped);
        _changes.Last(c => c.VmId == vm.Id).Reason.Should().Contain("did not quit in time and was killed");
    }

    [Fact]
    public async Task Deleting_a_vm_during_its_restart_pause_cancels_the_restart()
    {
        var supervisor = NewSupervisor(restartDelay: TimeSpan.FromMilliseconds(300));
        var vm = _definitions.Add("doomed", CrashPolicy.Restart);
        await supervisor.StartAsync(vm.Id, Ct);
        _launcher.Launched.Single().Exit(128 + 9);
        await UntilAsync(() => supervisor.GetState(vm.Id) == VmPowerState.Restarting, "Restarting");
        File.Exists(Path.Combine(supervisor.RuntimeDirectoryOf(vm.Id), CrashRestarts.PendingFileName)).Should().BeTrue();

        _definitions.Vms.TryRemove(vm.Id, out _);
        await supervisor.ForgetAsync(vm.Id, Ct).WaitAsync(Wait, Ct);
        await Task.Delay(700, Ct);

        _launcher.Launches.Should().Be(1, "a deleted VM is not restarted");
        supervisor.GetState(vm.Id).Should().Be(VmPowerState.Stopped);
        File.Exists(Path.Combine(supervisor.RuntimeDirectoryOf(vm.Id), CrashRestarts.PendingFileName)).Should().BeFalse();
    }

    [Fact]
    public async Task Deleting_a_vm_whose_restart_has_begun_ends_what_it_started()
    {
        var supervisor = NewSupervisor(restartDelay: TimeSpan.FromMilliseconds(50));
        var vm = _definitions.Add("half-restarted", CrashPolicy.Restart);
        await supervisor.StartAsync(vm.Id, Ct);
        _launcher.Gate = new TaskCompletionSource();
        _launcher.Launched.Single().Exit(128 + 9);
        await UntilAsync(() => supervisor.GetState(vm.Id) == VmPowerState.Starting, "the restart's launch");

        await supervisor.ForgetAsync(vm.Id, Ct).WaitAsync(Wait, Ct);

        _launcher.CancelledLaunches.Should().Be(1);
        _launcher.Launches.Should().Be(1);
        supervisor.GetState(vm.Id).Should().Be(VmPowerState.Stopped);
    }

    [Fact]
    public async Task A_stop_while_the_restart_starts_leaves_no_restart_for_the_next_dashboard()
    {
        var first = NewSupervisor(restartDelay: TimeSpan.FromMilliseconds(50));
        var vm = _definitions.Add("interrupted", CrashPolicy.Restart);
        await first.StartAsync(vm.Id, Ct);
        _launcher.Gate = new TaskCompletionSource();
        _launcher.Launched.Single().Exit(128 + 9);
        await UntilAsync(() => first.GetState(vm.Id) == VmPowerState.Starting, "the restart's launch");

        await first.StopAsync(vm.Id, Ct).WaitAsync(Wait, Ct);
        await first.DisposeAsync();
        _launcher.Gate.SetResult();
        var second = NewSupervisor(restartDelay: TimeSpan.FromMilliseconds(50));
        await ((IHostedService)second).StartAsync(Ct);
        await Task.Delay(300, Ct);

        second.GetState(vm.Id).Should().Be(VmPowerState.Stopped);
        _launcher.Launches.Should().Be(1, "the user stopped it: no dashboard restarts it");
    }

    [Fact]
    public async Task A_dashboard_restart_during_a_restart_pause_hands_the_restart_to_the_next_dashboard()
    {
        var first = NewSupervisor(restartDelay: TimeSpan.FromMilliseconds(400));
        await ((IHostedService)first).StartAsync(Ct);
        var vm = _definitions.Add("phoenix", CrashPolicy.Restart);
        await first.StartAsync(vm.Id, Ct);
        _launcher.Launched.Single().Exit(128 + 9);
        await UntilAsync(() => first.GetState(vm.Id) == VmPowerState.Restarting, "Restarting");

        await first.DisposeAsync(); // The dashboard stops during the pause.
        await Task.Delay(600, Ct);
        _launcher.Launches.Should().Be(1, "the stopping dashboard does not restart it");

        var second = NewSupervisor(restartDelay: TimeSpan.FromMilliseconds(100));
        await ((IHostedService)second).StartAsync(Ct);
        await UntilAsync(() => second.GetState(vm.Id) == VmPowerState.Running, "the restart by the next dashboard");

        _launcher.Launches.Should().Be(2);
        _events.Messages.Should().Contain(m => m.Contains("its restart after a crash was due when the dashboard stopped", StringComparison.Ordinal));
        File.Exists(Path.Combine(second.RuntimeDirectoryOf(vm.Id), CrashRestarts.PendingFileName)).Should().BeFalse();
    }

    [Fact]
    public async Task A_dashboard_restart_leaves_running_vms_running_and_the_next_one_reattaches()
    {
        var first = NewSupervisor();
        var vm = _definitions.Add("survivor");
        await first.StartAsync(vm.Id, Ct);
        var vmm = _launcher.Launched.Single();

        await first.DisposeAsync();
        vmm.Detached.Should().BeTrue();
        (vmm.Quits, vmm.Kills).Should().Be((0, 0), "a dashboard restart never stops a guest");

        var second = NewSupervisor();
        await ((IHostedService)second).StartAsync(Ct);

        second.GetState(vm.Id).Should().Be(VmPowerState.Running);
        _launcher.Launches.Should().Be(1);
        _events.Messages.Should().Contain(m => m.StartsWith("Reattached to survivor", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_vmm_that_fails_at_once_leaves_the_vm_stopped_with_its_reason()
    {
        var supervisor = NewSupervisor();
        var vm = _definitions.Add("broken");
        _launcher.Failure = () => new VmRuntimeException("The VMM exited at start (code 1): platform-vmm: bad kernel");

        var start = () => supervisor.StartAsync(vm.Id, Ct);

        (await start.Should().ThrowAsync<VmRuntimeException>()).WithMessage("*bad kernel*");
        supervisor.GetState(vm.Id).Should().Be(VmPowerState.Stopped);
        _changes.Last(c => c.VmId == vm.Id).Reason.Should().Contain("bad kernel");
    }

    [Fact]
    public async Task Stop_during_a_restart_pause_cancels_it_and_start_during_it_starts_at_once()
    {
        var supervisor = NewSupervisor(restartDelay: TimeSpan.FromSeconds(30));
        var vm = _definitions.Add("flaky", CrashPolicy.Restart);
        await supervisor.StartAsync(vm.Id, Ct);
        _launcher.Launched.Single().Exit(128 + 9);
        await UntilAsync(() => supervisor.GetState(vm.Id) == VmPowerState.Restarting, "Restarting");

        await supervisor.StartAsync(vm.Id, Ct).WaitAsync(Wait, Ct);
        supervisor.GetState(vm.Id).Should().Be(VmPowerState.Running, "Start does not wait out the pause");
        _launcher.Launched.Last().Exit(128 + 9);
        await UntilAsync(() => supervisor.GetState(vm.Id) == VmPowerState.Restarting, "Restarting again");

        await supervisor.StopAsync(vm.Id, Ct).WaitAsync(Wait, Ct);

        supervisor.GetState(vm.Id).Should().Be(VmPowerState.Stopped);
        _events.Messages.Should().Contain("Cancelled the restart of flaky: it stays stopped.");
        _launcher.Launches.Should().Be(2);
    }

    [Fact]
    public async Task The_vmm_s_events_drive_the_state_and_its_end_says_why()
    {
        var supervisor = NewSupervisor();
        var vm = _definitions.Add("guest");
        await supervisor.StartAsync(vm.Id, Ct);
        var vmm = _launcher.Launched.Single();

        await supervisor.PauseAsync(vm.Id, Ct);
        await UntilAsync(() => supervisor.GetState(vm.Id) == VmPowerState.Paused, "Paused");
        await supervisor.ResumeAsync(vm.Id, Ct);
        await UntilAsync(() => supervisor.GetState(vm.Id) == VmPowerState.Running, "Running");
        vmm.Raise(ControlProtocol.Events.GuestPanicked, "KVM emulation failure");
        vmm.Exit(3);
        await UntilAsync(() => supervisor.GetState(vm.Id) == VmPowerState.Crashed, "Crashed");

        _changes.Last(c => c.VmId == vm.Id).Reason.Should().Be("the guest died (KVM emulation failure)");
    }

    [Fact]
    public async Task A_guest_that_ignores_shutdown_is_stopped_after_the_timeout_and_the_shutdown_says_it_failed()
    {
        var supervisor = NewSupervisor();
        var vm = _definitions.Add("stubborn");
        await supervisor.StartAsync(vm.Id, Ct);
        var vmm = _launcher.Launched.Single();
        vmm.ObeysPowerdown = false;

        var shutdown = () => supervisor.ShutdownAsync(vm.Id, TimeSpan.FromMilliseconds(200), Ct).WaitAsync(Wait, Ct);

        (await shutdown.Should().ThrowAsync<VmRuntimeException>()).Which.Message
            .Should().Be("The guest did not shut down within 0.2 s, so it was stopped.");
        (vmm.Powerdowns, vmm.Quits).Should().Be((1, 1));
        supervisor.GetState(vm.Id).Should().Be(VmPowerState.Stopped);
        _changes.Last(c => c.VmId == vm.Id).Reason.Should().Be("the guest did not shut down within 0.2 s, so it was stopped");
        _events.Messages.Should().Contain(m => m.Contains("did not shut down within", StringComparison.Ordinal))
            .And.NotContain(m => m.Contains("the guest shut down", StringComparison.Ordinal), "one true story: it never did");
    }

    [Fact]
    public async Task Stop_during_a_shutdown_ends_the_vm_at_once_and_the_shutdown_says_it_was_cut_short()
    {
        var supervisor = NewSupervisor();
        var vm = _definitions.Add("slow-to-stop");
        await supervisor.StartAsync(vm.Id, Ct);
        var vmm = _launcher.Launched.Single();
        vmm.ObeysPowerdown = false;

        var shutdown = supervisor.ShutdownAsync(vm.Id, TimeSpan.FromMinutes(10), Ct);
        await UntilAsync(() => vmm.Powerdowns == 1, "the powerdown request");
        await supervisor.StopAsync(vm.Id, Ct).WaitAsync(Wait, Ct);

        supervisor.GetState(vm.Id).Should().Be(VmPowerState.Stopped);
        (await shutdown.Awaiting(s => s.WaitAsync(Wait, Ct)).Should().ThrowAsync<VmRuntimeException>()).Which.Message
            .Should().Be("Stopped from the dashboard before the guest finished shutting down.");
        _changes.Last(c => c.VmId == vm.Id).Reason.Should().Be("stopped from the dashboard before the guest finished shutting down");
    }

    [Fact]
    public async Task A_guest_that_powers_off_when_asked_completes_the_shutdown()
    {
        var supervisor = NewSupervisor();
        var vm = _definitions.Add("obliging");
        await supervisor.StartAsync(vm.Id, Ct);

        await supervisor.ShutdownAsync(vm.Id, TimeSpan.FromMinutes(1), Ct).WaitAsync(Wait, Ct);

        supervisor.GetState(vm.Id).Should().Be(VmPowerState.Stopped);
        _changes.Last(c => c.VmId == vm.Id).Reason.Should().Be("the guest powered off");
    }
}
