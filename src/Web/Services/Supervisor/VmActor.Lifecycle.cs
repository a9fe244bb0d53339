using Platform.Web.Data;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Tasks;
using Platform.Web.Services.Vms;

namespace Platform.Web.Services.Supervisor;

/// <summary>A VMM's life as the actor sees it: launched or attached, followed, ended, and restarted by the policy.</summary>
internal sealed partial class VmActor
{
    private void BeginLaunch(bool restart, TaskCompletionSource? reply)
    {
        var attempt = new LaunchAttempt(restart);
        if (reply is not null)
        {
            attempt.Waiters.Add(reply);
        }

        _launch = attempt;
        SetState(VmPowerState.Starting, null, force: true);
        _ = Task.Run(() => LaunchAsync(attempt));
    }

    private async Task LaunchAsync(LaunchAttempt attempt)
    {
        if (attempt.Restart)
        {
            // Begun on the launch's own flow, so the launch's log lines carry the task's id and the actor's loop does not.
            attempt.RestartTask = _context.BeginTask(TaskActions.VmCrashRestart, VmId, _name, $"Restart {_name} after its crash, as its on-crash policy says");
        }

        try
        {
            var vm = await _context.Definitions.LoadAsync(VmId, attempt.Token)
                ?? throw new VmRuntimeException("There is no such VM; it may have been deleted.");
            // A VMM an earlier dashboard started may still run this VM: take it over rather than start a second.
            var attached = await _context.Launcher.TryAttachAsync(RuntimeDirectory, attempt.Token);
            var vmm = attached ?? await _context.Launcher.LaunchAsync(vm, RuntimeDirectory, attempt.Token);
            Post(new LaunchCompleted(attempt, vmm, attached is not null, vm.Name, null));
        }
        catch (VmRuntimeException ex)
        {
            Post(new LaunchCompleted(attempt, null, false, null, ex));
        }
        catch (OperationCanceledException)
        {
            Post(new LaunchCompleted(attempt, null, false, null, null));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            Post(new LaunchCompleted(attempt, null, false, null, new VmRuntimeException($"The VMM could not be started: {ex.Message}", ex)));
        }
    }

    private async Task LaunchCompletedAsync(LaunchCompleted launched)
    {
        var attempt = launched.Attempt;
        _launch = null;
        if (launched.Name is { } name)
        {
            _name = name;
        }

        if (attempt.StopRequested)
        {
            // Stopped while it started: whatever the launch brought up ends at once, and the VM stays stopped.
            var cancelled = new VmRuntimeException("The start was called off: the VM was stopped meanwhile.");
            attempt.Waiters.ForEach(w => w.TrySetException(cancelled));
            CrashRestarts.DeletePending(RuntimeDirectory); // A restart stopped halfway is not for the next dashboard to redo.
            attempt.RestartTask?.Cancel("The VM was stopped before it finished starting.");
            if (launched.Vmm is { } late)
            {
                await AdoptAsync(late, _name, launched.Attached, restart: false, []);
                _run!.StopRequested = true;
                BeginQuit(late);
                return;
            }

            SetState(VmPowerState.Stopped, "stopped before it finished starting", force: true);
            CompleteEndWaiters();
            return;
        }

        if (launched.Vmm is { } vmm)
        {
            if (attempt.Restart)
            {
                CrashRestarts.DeletePending(RuntimeDirectory);
            }

            await AdoptAsync(vmm, _name, launched.Attached, attempt.Restart, attempt.Waiters);
            attempt.RestartTask?.Succeed($"{_name} is running again (VMM pid {vmm.Pid})");
            return;
        }

        var error = launched.Error ?? new VmRuntimeException("The start was called off.");
        if (attempt.RestartTask is { } task)
        {
            foreach (string line in error.VmmLog)
            {
                task.Log($"vmm.log: {line}");
            }

            task.Fail(error.Message);
        }

        if (attempt.Restart)
        {
            await AfterCrashAsync($"the restart failed: {error.Message}", failedRestart: true, followPolicy: true);
        }
        else
        {
            SetState(VmPowerState.Stopped, error.Message, force: true);
        }

        attempt.Waiters.ForEach(w => w.TrySetException(error));
    }

    /// <summary>Makes <paramref name="vmm"/> this VM's VMM: follows its events and end, and says it runs.</summary>
    private async Task AdoptAsync(IVmmHandle vmm, string name, bool attached, bool restart, List<TaskCompletionSource> waiters)
    {
        _name = name;
        _vmm = vmm;
        _run = new VmmRun();
        _ = FollowAsync(vmm);
        SetState(VmmStates.PowerStateOf(vmm.InitialState), null, force: true);
        if (attached)
        {
            SupervisorContext.Log.Reattached(_context.Logger, name, vmm.Pid);
            await _context.RecordAsync(VmId, name, VmEventResult.Info,
                $"Reattached to {name} (VMM pid {vmm.Pid}), which kept running while the dashboard was away.");
        }
        else
        {
            SupervisorContext.Log.Started(_context.Logger, name, vmm.Pid);
            await _context.RecordAsync(VmId, name, restart ? VmEventResult.Succeeded : VmEventResult.Info,
                restart ? $"Restarted {name} after its crash (VMM pid {vmm.Pid})." : $"{name} is running (VMM pid {vmm.Pid}).",
                restart ? VmEventKinds.CrashRestart : VmEventKinds.StateChanged);
        }

        waiters.ForEach(w => w.TrySetResult());
    }

    /// <summary>Brings the VMM's events, then its end, into the mailbox in the order they happened.</summary>
    private async Task FollowAsync(IVmmHandle vmm)
    {
        VmmEnd end;
        try
        {
            await foreach (var e in vmm.Events.ReadAllAsync())
            {
                Post(new VmmEventArrived(vmm, e));
            }

            end = await vmm.Ended;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Whatever went wrong while following, the VMM's end must reach the mailbox, or the VM sticks at its last state.
            SupervisorContext.Log.FollowFailed(_context.Logger, ex, _name, vmm.Pid);
            end = new VmmEnd(null);
        }

        Post(new VmmEnded(vmm, end));
    }

    /// <summary>
    /// Whether the VMM's runtime folder still exists, asked every <see cref="SupervisorOptions.FolderCheckInterval"/>
    /// by the supervisor's one folder check for all VMs (<see cref="VmSupervisor"/>), not by a timer per VM: a folder
    /// deleted by hand takes the sockets' names with it, while the control connection and the process live on. The
    /// loss is posted once per VMM. Called from the folder check's loop only.
    /// </summary>
    internal void CheckFolder()
    {
        if (_vmm is { } vmm && !vmm.Ended.IsCompleted && !ReferenceEquals(vmm, _folderLostFor)
            && !Directory.Exists(vmm.RuntimeDirectory))
        {
            _folderLostFor = vmm;
            Post(new RuntimeFolderLost(vmm));
        }
    }

    private Task OnRuntimeFolderLostAsync(IVmmHandle vmm)
    {
        if (vmm != _vmm)
        {
            return Task.CompletedTask;
        }

        SupervisorContext.Log.FolderLost(_context.Logger, _name, vmm.RuntimeDirectory, vmm.Pid);
        return _context.RecordAsync(VmId, _name, VmEventResult.Failed,
            $"The runtime folder of {_name} ({vmm.RuntimeDirectory}) was deleted while its VMM (pid {vmm.Pid}) runs: its consoles "
            + "cannot be reached and a restarted dashboard would not find it. Stop or Shut down still end it; Start makes the folder again.");
    }

    private Task OnVmmEventAsync(IVmmHandle vmm, VmmControlEvent e)
    {
        if (vmm != _vmm || _run is not { } run)
        {
            return Task.CompletedTask;
        }

        switch (e.Kind)
        {
            case VmmEventKind.Stop:
                SetState(VmPowerState.Paused, null);
                break;
            case VmmEventKind.Resume:
                SetState(VmPowerState.Running, null);
                break;
            case VmmEventKind.Reset when run.ShutdownRequested:
                // The guest answered Ctrl-Alt-Del by rebooting: its shutdown is done, so end the VMM instead of booting again.
                BeginQuit(vmm);
                break;
            case VmmEventKind.Reset:
                return _context.RecordAsync(VmId, _name, VmEventResult.Info, $"{_name} reset ({e.Reason ?? "guest"}).");
            case VmmEventKind.Shutdown:
                run.ShutdownReason = e.Reason ?? "shutdown";
                SetState(VmPowerState.Stopping, e.Reason);
                break;
            case VmmEventKind.GuestPanicked:
                run.PanicDetail = e.Reason ?? "the guest died";
                break;
            case VmmEventKind.NicBackendRestarted:
                return _context.RecordAsync(VmId, _name, VmEventResult.Info, $"{_name}'s network backend restarted: {e.Reason}.");
            case VmmEventKind.NicBackendFailed:
                return _context.RecordAsync(VmId, _name, VmEventResult.Failed, $"{_name} lost a network: {e.Reason}.");
        }

        return Task.CompletedTask;
    }

    private async Task OnVmmEndedAsync(IVmmHandle vmm, VmmEnd end)
    {
        if (vmm != _vmm || _run is not { } run)
        {
            return;
        }

        _vmm = null;
        _run = null;
        await vmm.DisposeAsync();
        var (state, reason) = run.Outcome(end.ExitCode, RuntimeDirectory);
        if (state == VmPowerState.Crashed)
        {
            // A user's Stop or Shutdown is never undone: a VMM that crashed on its way out is not restarted.
            await AfterCrashAsync(reason, failedRestart: false, followPolicy: !run.StopRequested);
        }
        else
        {
            SetState(state, reason, force: true);
            await _context.RecordAsync(VmId, _name, VmEventResult.Info, $"{_name} stopped: {reason}.");
        }

        CompleteShutdownWaiters(state == VmPowerState.Crashed ? reason : run.ShutdownCutShort);
        CompleteEndWaiters();
    }

    /// <summary>A Shut down whose guest did not power off by itself failed, even though the VM is now stopped.</summary>
    private void CompleteShutdownWaiters(string? failure)
    {
        var error = failure is null ? null : new VmRuntimeException(char.ToUpperInvariant(failure[0]) + failure[1..] + ".");
        _shutdownWaiters.ForEach(w => _ = error is null ? w.TrySetResult() : w.TrySetException(error));
        _shutdownWaiters.Clear();
    }

    private void CompleteEndWaiters()
    {
        _endWaiters.ForEach(w => w.TrySetResult());
        _endWaiters.Clear();
    }
}
