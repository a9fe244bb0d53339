using Platform.Web.Data;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;

namespace Platform.Web.Services.Supervisor;

/// <summary>What follows a crash: the VM's on-crash policy, read when it happens, and <see cref="CrashRestarts"/>' arithmetic.</summary>
internal sealed partial class VmActor
{
    /// <summary>
    /// After a crash or a restart that failed (<paramref name="followPolicy"/> false: one a user was stopping): stays Crashed, or restarts after a pause that grows with each crash in
    /// the window until the limit. When the dashboard is stopping, the restart is left to the next one (the
    /// restart-pending record in the runtime folder).
    /// </summary>
    private async Task AfterCrashAsync(string reason, bool failedRestart, bool followPolicy)
    {
        var policy = followPolicy ? await _context.Definitions.CrashPolicyOfAsync(VmId, CancellationToken.None) : CrashPolicy.Stay;
        string directory = RuntimeDirectory;
        var options = _context.Options;
        SupervisorContext.Log.Crashed(_context.Logger, _name, reason);
        if (policy == CrashPolicy.Restart && _context.Stopping.IsCancellationRequested)
        {
            _crashes.Add(DateTimeOffset.UtcNow);
            TryWritePending(directory);
            SetState(VmPowerState.Crashed, reason, force: true);
            await _context.RecordAsync(VmId, _name, VmEventResult.Failed, $"{_name} crashed: {reason}.");
            return;
        }

        if (policy != CrashPolicy.Restart)
        {
            CrashRestarts.DeletePending(directory);
            SetState(VmPowerState.Crashed, reason, force: true);
            await _context.RecordAsync(VmId, _name, VmEventResult.Failed,
                failedRestart ? $"Restarting {_name} failed: {reason}." : $"{_name} crashed: {reason}.");
            return;
        }

        var decision = CrashRestarts.Decide(_crashes, DateTimeOffset.UtcNow, options);
        string window = CrashRestarts.Describe(options.CrashRestartWindow);
        if (!decision.Restart)
        {
            _crashes = [];
            CrashRestarts.DeletePending(directory);
            string why = $"it crashed {decision.CrashesInWindow} times within {window}, so it was not restarted again";
            SetState(VmPowerState.Crashed, $"{reason}; {why}", force: true);
            await _context.RecordAsync(VmId, _name, VmEventResult.Failed, $"{_name} crashed: {reason}.");
            await _context.RecordAsync(VmId, _name, VmEventResult.Failed,
                $"Gave up restarting {_name}: {why}. Its log is {Path.Combine(directory, VmmProcess.LogFileName)}; start it by hand once the cause is fixed.",
                VmEventKinds.CrashRestart);
            SupervisorContext.Log.GaveUp(_context.Logger, _name, decision.CrashesInWindow);
            return;
        }

        // Recorded before anyone can see Restarting: a dashboard stopped from then on leaves the restart to the next.
        TryWritePending(directory);
        ScheduleRestart(decision.Delay);
        SetState(VmPowerState.Restarting, $"{reason}; restarting in {CrashRestarts.Describe(decision.Delay)}", force: true);
        await _context.RecordAsync(VmId, _name, VmEventResult.Failed, $"{_name} crashed: {reason}.");
        await _context.RecordAsync(VmId, _name, VmEventResult.Info,
            $"Restarting {_name} in {CrashRestarts.Describe(decision.Delay)}, as its on-crash policy says ({decision.CrashesInWindow} " +
            $"crash{(decision.CrashesInWindow == 1 ? "" : "es")} within {window}; at {options.CrashRestartLimit} it is left crashed).",
            VmEventKinds.CrashRestart);
        SupervisorContext.Log.Restarting(_context.Logger, _name, decision.Delay);
    }

    /// <summary>A restart was due when the previous dashboard stopped: do it, if the VM still wants it.</summary>
    private async Task TakeOverRestartAsync(TakeOverRestartCommand takeOver)
    {
        _name = takeOver.Name;
        if (await _context.Definitions.CrashPolicyOfAsync(VmId, CancellationToken.None) != CrashPolicy.Restart)
        {
            CrashRestarts.DeletePending(RuntimeDirectory);
            takeOver.Reply?.TrySetResult();
            return;
        }

        _crashes = takeOver.Crashes;
        var delay = _context.Options.CrashRestartDelay;
        ScheduleRestart(delay);
        SetState(VmPowerState.Restarting,
            $"a restart after a crash was due when the dashboard stopped; restarting in {CrashRestarts.Describe(delay)}", force: true);
        await _context.RecordAsync(VmId, _name, VmEventResult.Info,
            $"Restarting {_name} in {CrashRestarts.Describe(delay)}: its restart after a crash was due when the dashboard stopped.",
            VmEventKinds.CrashRestart);
        takeOver.Reply?.TrySetResult();
    }

    private void ScheduleRestart(TimeSpan delay)
    {
        var pending = new PendingRestart(delay, _context.Stopping);
        _restart = pending;
        _ = Task.Delay(delay, pending.Token).ContinueWith(
            waited => { if (!waited.IsCanceled) Post(new RestartDue(pending)); },
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void TryWritePending(string directory)
    {
        try
        {
            CrashRestarts.WritePending(directory, _crashes);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            SupervisorContext.Log.PendingNotWritten(_context.Logger, ex, directory); // Only a dashboard restart during the pause would miss it.
        }
    }
}
