using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Platform.Web.Data;
using Platform.Web.Extensions;
using Platform.Web.Services.Images;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;

namespace Platform.Web.Services.Supervisor;

/// <summary>
/// Runs one platform-vmm per VM in its own runtime folder and follows it through its control socket: state from
/// the VMM's events, crashes from the socket closing without a SHUTDOWN, counters polled for the live pages. A crash
/// of a VM whose on-crash policy is restart is followed by a restart after a growing pause, until it crashes too
/// often (<see cref="CrashRestarts"/>); a Stop or Shutdown from a user is never undone by it. On start it reattaches
/// to VMMs that outlived the previous dashboard and takes over restarts that were due, then starts the autostart VMs;
/// on stop it leaves every VMM running — a dashboard restart never stops a guest.
/// </summary>
internal sealed partial class VmSupervisor : IVmRuntime, IVmRuntimeInfo, IHostedService, IAsyncDisposable
{
    private readonly IDbContextFactory<PlatformDbContext> _dbFactory;
    private readonly ImageLibrary _images;
    private readonly IVmEventLog _events;
    private readonly SupervisorOptions _options;
    private readonly VmmProgram _program;
    private readonly ILogger<VmSupervisor> _logger;
    private readonly string _runtimeRoot;
    private readonly ConcurrentDictionary<Guid, SupervisedVmm> _running = new();
    private readonly ConcurrentDictionary<Guid, VmPowerState> _ended = new();
    private readonly ConcurrentDictionary<Guid, SemaphoreSlim> _gates = new();
    private readonly ConcurrentDictionary<Guid, PendingRestart> _restarts = new();
    private readonly ConcurrentDictionary<Guid, List<DateTimeOffset>> _crashes = new();
    // Orders a VMM's end (its removal from _running and the restart decision) against Stop/Shutdown/Start claiming
    // the VM, so a user's Stop either reaches the VMM before the decision or finds the pending restart and cancels it.
    private readonly Lock _policyLock = new();
    private readonly Subscribers<VmStateChanged> _stateSubscribers = new();
    private readonly Subscribers<VmStatsSample> _statsSubscribers = new();
    private readonly CancellationTokenSource _stopping = new();
    private Task _statsLoop = Task.CompletedTask;

    public VmSupervisor(
        IDbContextFactory<PlatformDbContext> dbFactory, ImageLibrary images, IVmEventLog events,
        PlatformOptions platformOptions, SupervisorOptions options, VmmProgram program, ILogger<VmSupervisor> logger)
    {
        _program = program;
        _dbFactory = dbFactory;
        _images = images;
        _events = events;
        _options = options;
        _logger = logger;
        _runtimeRoot = options.RuntimeRoot ?? Path.Combine(platformOptions.DataDirectory, "run");
    }

    public string RuntimeDirectoryOf(Guid vmId) => Path.Combine(_runtimeRoot, vmId.ToString("N"));

    public VmPowerState GetState(Guid vmId) =>
        _running.TryGetValue(vmId, out var vmm) ? vmm.State
        : _ended.TryGetValue(vmId, out var state) ? state
        : VmPowerState.Stopped;

    public IDisposable Subscribe(Action<VmStateChanged> handler) => _stateSubscribers.Add(handler);

    public IDisposable SubscribeStats(Action<VmStatsSample> handler) => _statsSubscribers.Add(handler);

    public string? GetSocketPath(Guid vmId, VmSocket socket)
    {
        if (!_running.TryGetValue(vmId, out var vmm))
        {
            return null;
        }

        string path = vmm.SocketPath(socket switch
        {
            VmSocket.Control => ControlProtocol.ControlSocketName,
            VmSocket.Serial => ControlProtocol.SerialSocketName,
            _ => ControlProtocol.VncSocketName,
        });
        return File.Exists(path) ? path : null;
    }

    public async Task<VmmStats?> GetStatsAsync(Guid vmId, CancellationToken cancellationToken)
    {
        if (!_running.TryGetValue(vmId, out var vmm))
        {
            return null;
        }

        try
        {
            return await vmm.Client.QueryStatsAsync(cancellationToken);
        }
        catch (VmmControlException)
        {
            return null; // It is ending; the monitor will record how.
        }
    }

    public async Task StartAsync(Guid vmId, CancellationToken cancellationToken)
    {
        // A start by hand replaces a pending restart, and the crash count begins afresh.
        bool replacedRestart = TakePendingRestart(vmId);
        _crashes.TryRemove(vmId, out _);
        var gate = Gate(vmId);
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (_running.ContainsKey(vmId))
            {
                if (replacedRestart)
                {
                    return; // The restart had begun before this start: the VM runs, as asked.
                }

                throw new VmRuntimeException("The VM is already running.");
            }

            await StartLockedAsync(vmId, restart: false, cancellationToken);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Starts the VMM; the caller holds the VM's gate. A restart publishes no state on failure: its caller decides what follows.</summary>
    private async Task StartLockedAsync(Guid vmId, bool restart, CancellationToken cancellationToken)
    {
        var vm = await LoadAsync(vmId, cancellationToken)
            ?? throw new VmRuntimeException("There is no such VM; it may have been deleted.");
        string vmmPath = _program.Current is { Path: { } found } ? found
            : throw new VmRuntimeException(_program.Current.Reason) { Unavailable = true };
        string directory = RuntimeDirectoryOf(vmId);
        if (await TryAttachAsync(vmId, vm.Name, directory, cancellationToken))
        {
            return; // A VMM we did not know about already runs this VM (started by an earlier dashboard).
        }

        var config = VmmConfigBuilder.Build(vm, _images.PathOf, directory, _images.EnsureLinkedClone);
        Directory.CreateDirectory(directory);
        VmmProcess.RemoveStaleFiles(directory);
        string configFile = Path.Combine(directory, VmConfigFile.FileName);
        VmConfigFile.Write(configFile, config);
        string[] arguments = ["--config", configFile];
        _ended.TryRemove(vmId, out _);
        Publish(vmId, VmPowerState.Starting, null);
        Process process;
        try
        {
            process = VmmProcess.Start(vmmPath, arguments, directory);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            PublishStartFailure(vmId, restart, ex.Message);
            throw new VmRuntimeException($"The VMM could not be started: {ex.Message}", ex);
        }

        var client = await WaitUntilReadyAsync(vmId, restart, process, directory, cancellationToken);
        var vmm = new SupervisedVmm(vmId, vm.Name, directory, process.Id, process, client);
        await FollowAsync(vmm, cancellationToken);
        Log.Started(_logger, vm.Name, process.Id);
        await RecordAsync(vmm, restart ? VmEventResult.Succeeded : VmEventResult.Info,
            restart ? $"Restarted {vm.Name} after its crash (VMM pid {process.Id})." : $"{vm.Name} is running (VMM pid {process.Id}).",
            restart ? VmEventKinds.CrashRestart : VmEventKinds.StateChanged);
    }

    private void PublishStartFailure(Guid vmId, bool restart, string reason)
    {
        if (!restart)
        {
            Publish(vmId, VmPowerState.Stopped, reason);
        }
    }

    /// <summary>Waits for the VMM's pid file and control socket; a VMM that exits first failed, and its log says why.</summary>
    private async Task<VmmControlClient> WaitUntilReadyAsync(Guid vmId, bool restart, Process process, string directory, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                await process.WaitForExitAsync(CancellationToken.None);
                string reason = VmmProcess.LogTail(directory);
                int code = process.ExitCode;
                process.Dispose();
                PublishStartFailure(vmId, restart, reason);
                throw new VmRuntimeException($"The VMM exited at start (code {code}): {reason}");
            }

            if (VmmProcess.ReadLivePid(directory) == process.Id)
            {
                try
                {
                    return await VmmControlClient.ConnectAsync(Path.Combine(directory, ControlProtocol.ControlSocketName), cancellationToken);
                }
                catch (VmmControlException) when (deadline.Elapsed < _options.StartTimeout)
                {
                    // Not listening yet: keep waiting.
                }
            }

            if (deadline.Elapsed > _options.StartTimeout)
            {
                process.Kill();
                PublishStartFailure(vmId, restart, "start timed out");
                throw new VmRuntimeException(
                    $"The VMM did not open its control socket within {_options.StartTimeout.TotalSeconds} s and was stopped: {VmmProcess.LogTail(directory)}");
            }

            await Task.Delay(20, cancellationToken);
        }
    }

    /// <summary>Attaches to a VMM still running in <paramref name="directory"/>; false when there is none.</summary>
    private async Task<bool> TryAttachAsync(Guid vmId, string name, string directory, CancellationToken cancellationToken)
    {
        if (VmmProcess.ReadLivePid(directory) is not { } pid)
        {
            return false;
        }

        VmmControlClient client;
        try
        {
            client = await VmmControlClient.ConnectAsync(Path.Combine(directory, ControlProtocol.ControlSocketName), cancellationToken);
        }
        catch (VmmControlException)
        {
            return false; // The pid was reused by something else, or the VMM is on its way out.
        }

        if (client.Greeting.Pid != pid)
        {
            await client.DisposeAsync();
            return false;
        }

        var vmm = new SupervisedVmm(vmId, name, directory, pid, process: null, client);
        await FollowAsync(vmm, cancellationToken);
        Log.Reattached(_logger, name, pid);
        await RecordAsync(vmm, VmEventResult.Info, $"Reattached to {name} (VMM pid {pid}), which kept running while the dashboard was away.");
        return true;
    }

    /// <summary>Subscribes to the VMM's events, reads its state, and starts watching for its end.</summary>
    private async Task FollowAsync(SupervisedVmm vmm, CancellationToken cancellationToken)
    {
        vmm.Client.EventReceived += e => OnVmmEvent(vmm, e);
        var status = await vmm.Client.QueryStatusAsync(cancellationToken);
        vmm.State = VmmStates.PowerStateOf(status.Status);
        _running[vmm.VmId] = vmm;
        _ended.TryRemove(vmm.VmId, out _);
        Publish(vmm.VmId, vmm.State, null);
        _ = MonitorAsync(vmm);
    }

    // Runs on the client's reader: only quick state updates here; anything slow goes to the thread pool.
    private void OnVmmEvent(SupervisedVmm vmm, VmmControlEvent e)
    {
        switch (e.Kind)
        {
            case VmmEventKind.Stop:
                SetState(vmm, VmPowerState.Paused, null);
                break;
            case VmmEventKind.Resume:
                SetState(vmm, VmPowerState.Running, null);
                break;
            case VmmEventKind.Reset when vmm.ShutdownRequested:
                // The guest answered Ctrl-Alt-Del by rebooting: its shutdown is done, so end the VMM instead of booting again.
                _ = Task.Run(() => QuitOrKillAsync(vmm));
                break;
            case VmmEventKind.Reset:
                _ = RecordAsync(vmm, VmEventResult.Info, $"{vmm.Name} reset ({e.Reason ?? "guest"}).");
                break;
            case VmmEventKind.Shutdown:
                vmm.ShutdownReason = e.Reason ?? "shutdown";
                SetState(vmm, VmPowerState.Stopping, e.Reason);
                break;
            case VmmEventKind.GuestPanicked:
                vmm.PanicDetail = e.Reason ?? "the guest died";
                break;
        }
    }

    /// <summary>Waits for the control connection to end, then works out how the VMM ended and records it.</summary>
    private async Task MonitorAsync(SupervisedVmm vmm)
    {
        while (true)
        {
            await vmm.Client.Completion.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (vmm.Detached)
            {
                vmm.MarkEnded();
                return;
            }

            bool exited = await WaitForExitAsync(vmm, TimeSpan.FromSeconds(5));
            if (exited || !await TryReconnectAsync(vmm))
            {
                break;
            }
        }

        await vmm.Client.DisposeAsync();
        int? exitCode = vmm.Process is { HasExited: true } process ? process.ExitCode : null;
        var (state, reason) = Outcome(vmm, exitCode);
        if (!VmmProcess.IsAlive(vmm.Pid))
        {
            VmmProcess.RemoveStaleFiles(vmm.RuntimeDirectory);
        }

        if (state == VmPowerState.Crashed)
        {
            await AfterCrashAsync(vmm.VmId, vmm.Name, reason, vmm, failedRestart: null);
        }
        else
        {
            _running.TryRemove(vmm.VmId, out _);
            Publish(vmm.VmId, state, reason);
            await RecordAsync(vmm, VmEventResult.Info, $"{vmm.Name} stopped: {reason}.");
        }

        vmm.Process?.Dispose();
        vmm.MarkEnded();
    }

    /// <summary>
    /// After a crash (<paramref name="vmm"/> ended) or a restart that failed (<paramref name="failedRestart"/>): the VM's
    /// on-crash policy, read now, decides between staying Crashed and another restart after a pause. Never restarts a
    /// VM a user asked to stop, nor one whose pending restart a user took over meanwhile.
    /// </summary>
    private async Task AfterCrashAsync(Guid vmId, string name, string reason, SupervisedVmm? vmm, PendingRestart? failedRestart)
    {
        var policy = await CrashPolicyOfAsync(vmId);
        string directory = RuntimeDirectoryOf(vmId);
        CrashDecision? decision = null;
        PendingRestart? pending = null;
        bool takenOver = false, handedOver = false;
        lock (_policyLock)
        {
            if (vmm is not null)
            {
                _running.TryRemove(vmId, out _);
            }

            takenOver = failedRestart is not null && !(_restarts.TryGetValue(vmId, out var current) && current == failedRestart);
            bool wanted = policy == CrashPolicy.Restart && vmm?.StopRequested != true && !takenOver;
            if (wanted && _stopping.IsCancellationRequested)
            {
                // The dashboard is stopping: the next one does the restart.
                var crashes = _crashes.GetOrAdd(vmId, _ => []);
                crashes.Add(DateTimeOffset.UtcNow);
                TryWritePending(directory, crashes);
                handedOver = true;
            }
            else if (wanted)
            {
                var crashes = _crashes.GetOrAdd(vmId, _ => []);
                decision = CrashRestarts.Decide(crashes, DateTimeOffset.UtcNow, _options);
                if (decision.Value.Restart)
                {
                    // Recorded before anyone can see Restarting: a dashboard stopped from then on leaves the restart to the next.
                    TryWritePending(directory, crashes);
                    pending = new PendingRestart(vmId, name, decision.Value.Delay, _stopping.Token);
                    _restarts[vmId] = pending;
                }
                else
                {
                    _restarts.TryRemove(vmId, out _);
                    _crashes.TryRemove(vmId, out _);
                }
            }

            if (!takenOver)
            {
                _ended[vmId] = pending is null ? VmPowerState.Crashed : VmPowerState.Restarting;
            }
        }

        Log.Crashed(_logger, name, reason);
        string window = CrashRestarts.Describe(_options.CrashRestartWindow);
        if (takenOver)
        {
            // Stopped or started by hand while this restart was under way: that user's action decides what follows.
            await RecordAsync(vmId, name, VmEventResult.Failed, $"Restarting {name} failed: {reason}.", VmEventKinds.CrashRestart);
        }
        else if (pending is not null)
        {
            var d = decision!.Value;
            Publish(vmId, VmPowerState.Restarting, $"{reason}; restarting in {CrashRestarts.Describe(d.Delay)}");
            await RecordAsync(vmId, name, VmEventResult.Failed, $"{name} crashed: {reason}.");
            await RecordAsync(vmId, name, VmEventResult.Info,
                $"Restarting {name} in {CrashRestarts.Describe(d.Delay)}, as its on-crash policy says ({d.CrashesInWindow} " +
                $"crash{(d.CrashesInWindow == 1 ? "" : "es")} within {window}; at {_options.CrashRestartLimit} it is left crashed).",
                VmEventKinds.CrashRestart);
            Log.Restarting(_logger, name, d.Delay);
            _ = Task.Run(() => RestartAfterAsync(pending), CancellationToken.None);
        }
        else if (decision is { } gaveUp)
        {
            CrashRestarts.DeletePending(directory);
            string why = $"it crashed {gaveUp.CrashesInWindow} times within {window}, so it was not restarted again";
            Publish(vmId, VmPowerState.Crashed, $"{reason}; {why}");
            await RecordAsync(vmId, name, VmEventResult.Failed, $"{name} crashed: {reason}.");
            await RecordAsync(vmId, name, VmEventResult.Failed,
                $"Gave up restarting {name}: {why}. Its log is {Path.Combine(directory, VmmProcess.LogFileName)}; start it by hand once the cause is fixed.",
                VmEventKinds.CrashRestart);
            Log.GaveUp(_logger, name, gaveUp.CrashesInWindow);
        }
        else
        {
            if (!handedOver)
            {
                CrashRestarts.DeletePending(directory);
            }

            Publish(vmId, VmPowerState.Crashed, reason);
            await RecordAsync(vmId, name, VmEventResult.Failed, failedRestart is null ? $"{name} crashed: {reason}." : $"Restarting {name} failed: {reason}.");
        }
    }

    /// <summary>Waits out the pause, then starts the VM again, unless a user stopped or started it meanwhile.</summary>
    private async Task RestartAfterAsync(PendingRestart pending)
    {
        var gate = Gate(pending.VmId);
        try
        {
            await Task.Delay(pending.Delay, pending.Token);
            await gate.WaitAsync(pending.Token);
        }
        catch (OperationCanceledException)
        {
            return; // Taken over by a user, or the dashboard is stopping (the next one finds the record and restarts it).
        }

        try
        {
            lock (_policyLock)
            {
                if (!_restarts.TryGetValue(pending.VmId, out var current) || current != pending)
                {
                    return;
                }
            }

            try
            {
                // The dashboard's token, not the pending one: a Stop arriving now waits for this start and then stops it,
                // which a start abandoned halfway could not promise.
                await StartLockedAsync(pending.VmId, restart: true, _stopping.Token);
                CrashRestarts.DeletePending(RuntimeDirectoryOf(pending.VmId));
            }
            catch (VmRuntimeException ex)
            {
                await AfterCrashAsync(pending.VmId, pending.Name, $"the restart failed: {ex.Message}", vmm: null, failedRestart: pending);
            }
            catch (OperationCanceledException)
            {
                // The dashboard is stopping; the record stays for the next one.
            }
        }
        finally
        {
            lock (_policyLock)
            {
                if (_restarts.TryGetValue(pending.VmId, out var current) && current == pending)
                {
                    _restarts.TryRemove(pending.VmId, out _);
                }
            }

            gate.Release();
        }
    }

    /// <summary>Cancels the VM's pending restart, if it has one; true when it had.</summary>
    private bool TakePendingRestart(Guid vmId)
    {
        PendingRestart? pending;
        lock (_policyLock)
        {
            if (!_restarts.TryRemove(vmId, out pending))
            {
                return false;
            }

            pending.Cancel();
        }

        CrashRestarts.DeletePending(RuntimeDirectoryOf(vmId));
        return true;
    }

    /// <summary>
    /// For Stop and Shutdown: the running VMM, marked so that its end is never taken for a crash to restart; else
    /// null, having cancelled a pending restart if there was one (<paramref name="hadRestart"/>).
    /// </summary>
    private SupervisedVmm? ClaimForStop(Guid vmId, out bool hadRestart)
    {
        lock (_policyLock)
        {
            if (_running.TryGetValue(vmId, out var vmm))
            {
                vmm.StopRequested = true;
                hadRestart = false;
                return vmm;
            }
        }

        hadRestart = TakePendingRestart(vmId);
        return null;
    }

    /// <summary>
    /// Stop or Shutdown of a VM that was waiting to be restarted: nothing runs, unless the restart had already begun,
    /// in which case what it started is stopped. Either way the VM ends Stopped, as the user asked.
    /// </summary>
    private async Task StopInsteadOfRestartAsync(Guid vmId, CancellationToken cancellationToken)
    {
        var gate = Gate(vmId);
        await gate.WaitAsync(cancellationToken);
        try
        {
            SupervisedVmm? started;
            lock (_policyLock)
            {
                if (_running.TryGetValue(vmId, out started))
                {
                    started.StopRequested = true;
                }
            }

            if (started is not null)
            {
                await QuitOrKillAsync(started);
                return;
            }

            _ended.TryRemove(vmId, out _);
            _crashes.TryRemove(vmId, out _);
            Publish(vmId, VmPowerState.Stopped, "the restart after its crash was cancelled");
            string name = (await LoadAsync(vmId, CancellationToken.None))?.Name ?? vmId.ToString();
            await RecordAsync(vmId, name, VmEventResult.Info, $"Cancelled the restart of {name}: it stays stopped.", VmEventKinds.CrashRestart);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The VM's on-crash policy as stored now (it can change while the VM runs); Stay when it cannot be read.</summary>
    private async Task<CrashPolicy> CrashPolicyOfAsync(Guid vmId)
    {
        try
        {
            await using var db = await _dbFactory.CreateDbContextAsync(_stopping.Token);
            return await db.VirtualMachines.IgnoreAutoIncludes().Where(vm => vm.Id == vmId).Select(vm => (CrashPolicy?)vm.OnCrash)
                .FirstOrDefaultAsync(_stopping.Token) ?? CrashPolicy.Stay;
        }
        catch (Exception ex) when (ex is DbException or InvalidOperationException or ObjectDisposedException or OperationCanceledException)
        {
            return CrashPolicy.Stay;
        }
    }

    private void TryWritePending(string directory, IEnumerable<DateTimeOffset> crashes)
    {
        try
        {
            CrashRestarts.WritePending(directory, crashes);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.PendingNotWritten(_logger, ex, directory); // Only a dashboard restart during the pause would miss it.
        }
    }

    /// <summary>A restart the on-crash policy scheduled; cancelled when a user takes the VM over or the dashboard stops.</summary>
    private sealed class PendingRestart(Guid vmId, string name, TimeSpan delay, CancellationToken stopping)
    {
        private readonly CancellationTokenSource _cancel = CancellationTokenSource.CreateLinkedTokenSource(stopping);

        public Guid VmId { get; } = vmId;

        public string Name { get; } = name;

        public TimeSpan Delay { get; } = delay;

        public CancellationToken Token => _cancel.Token;

        public void Cancel() => _cancel.Cancel();
    }

    /// <summary>How the VMM ended, from its last events and (when it was our child) its exit code.</summary>
    private static (VmPowerState State, string Reason) Outcome(SupervisedVmm vmm, int? exitCode)
    {
        if (vmm.PanicDetail is { } panic)
        {
            return (VmPowerState.Crashed, $"the guest died ({panic})");
        }

        if (vmm.ShutdownReason is { } reason)
        {
            return (VmPowerState.Stopped, VmmStates.DescribeShutdown(reason, vmm.ShutdownRequested));
        }

        if (vmm.StopRequested)
        {
            // Asked to stop, it did not quit in time and was killed: stopped as asked, not a crash.
            return (VmPowerState.Stopped, "stopped from the dashboard (the VMM did not quit in time and was killed)");
        }

        return exitCode switch
        {
            > 128 => (VmPowerState.Crashed, $"the VMM was killed by signal {exitCode - 128}"),
            { } code => (VmPowerState.Crashed, $"the VMM exited with code {code} without shutting down: {VmmProcess.LogTail(vmm.RuntimeDirectory)}"),
            null => (VmPowerState.Crashed, "the VMM ended without shutting down the VM"),
        };
    }

    private static async Task<bool> WaitForExitAsync(SupervisedVmm vmm, TimeSpan timeout)
    {
        if (vmm.Process is { } process)
        {
            try
            {
                await process.WaitForExitAsync().WaitAsync(timeout);
                return true;
            }
            catch (TimeoutException)
            {
                return false;
            }
        }

        var deadline = Stopwatch.StartNew();
        while (VmmProcess.IsAlive(vmm.Pid))
        {
            if (deadline.Elapsed > timeout)
            {
                return false;
            }

            await Task.Delay(50);
        }

        return true;
    }

    /// <summary>The connection dropped but the VMM lives on (it closed a client it thought stuck): connect again.</summary>
    private async Task<bool> TryReconnectAsync(SupervisedVmm vmm)
    {
        try
        {
            await vmm.Client.DisposeAsync();
            vmm.Client = await VmmControlClient.ConnectAsync(vmm.SocketPath(ControlProtocol.ControlSocketName), _stopping.Token);
            vmm.Client.EventReceived += e => OnVmmEvent(vmm, e);
            return true;
        }
        catch (Exception ex) when (ex is VmmControlException or OperationCanceledException)
        {
            VmmProcess.Kill(vmm.Pid); // It no longer answers: a VMM nobody can control must not keep the VM half-alive.
            return false;
        }
    }

    public async Task ShutdownAsync(Guid vmId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (ClaimForStop(vmId, out bool hadRestart) is not { } vmm)
        {
            await (hadRestart ? StopInsteadOfRestartAsync(vmId, cancellationToken) : throw NotRunning());
            return;
        }

        vmm.ShutdownRequested = true;
        SetState(vmm, VmPowerState.Stopping, "shutdown requested");
        await Command(vmm, c => c.PowerdownAsync(cancellationToken));
        try
        {
            await vmm.Ended.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            await RecordAsync(vmm, VmEventResult.Info, $"{vmm.Name} did not shut down within {timeout.TotalSeconds:0} s; stopping it.");
            await QuitOrKillAsync(vmm);
        }
    }

    public async Task StopAsync(Guid vmId, CancellationToken cancellationToken)
    {
        if (ClaimForStop(vmId, out bool hadRestart) is { } vmm)
        {
            await QuitOrKillAsync(vmm);
        }
        else if (hadRestart)
        {
            await StopInsteadOfRestartAsync(vmId, cancellationToken);
        }
        else
        {
            throw NotRunning();
        }
    }

    public Task PauseAsync(Guid vmId, CancellationToken cancellationToken) =>
        Command(Running(vmId), c => c.PauseAsync(cancellationToken));

    public Task ResumeAsync(Guid vmId, CancellationToken cancellationToken) =>
        Command(Running(vmId), c => c.ResumeAsync(cancellationToken));

    public Task ResetAsync(Guid vmId, CancellationToken cancellationToken) =>
        Command(Running(vmId), c => c.ResetAsync(cancellationToken));

    /// <summary>Asks the VMM to quit; kills it if it has not ended within the quit timeout. Returns once it has ended.</summary>
    private async Task QuitOrKillAsync(SupervisedVmm vmm)
    {
        vmm.StopRequested = true;
        SetState(vmm, VmPowerState.Stopping, null);
        try
        {
            await vmm.Client.QuitAsync().WaitAsync(_options.QuitTimeout);
            await vmm.Ended.WaitAsync(_options.QuitTimeout);
        }
        catch (Exception ex) when (ex is VmmControlException or TimeoutException)
        {
            if (!vmm.Ended.IsCompleted)
            {
                VmmProcess.Kill(vmm.Pid);
                await vmm.Ended.WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
    }

    private static async Task Command(SupervisedVmm vmm, Func<VmmControlClient, Task> command)
    {
        try
        {
            await command(vmm.Client);
        }
        catch (VmmControlException ex)
        {
            throw new VmRuntimeException(ex.Message, ex);
        }
    }

    private SupervisedVmm Running(Guid vmId) =>
        _running.TryGetValue(vmId, out var vmm) ? vmm : throw NotRunning();

    private static VmRuntimeException NotRunning() => new("The VM is not running.");

    private void SetState(SupervisedVmm vmm, VmPowerState state, string? reason)
    {
        if (vmm.State == state)
        {
            return;
        }

        vmm.State = state;
        Publish(vmm.VmId, state, reason);
    }

    private void Publish(Guid vmId, VmPowerState state, string? reason) =>
        _stateSubscribers.Publish(new VmStateChanged(vmId, state, reason, DateTimeOffset.UtcNow), _logger);

    private Task RecordAsync(SupervisedVmm vmm, VmEventResult result, string message, string kind = VmEventKinds.StateChanged) =>
        RecordAsync(vmm.VmId, vmm.Name, result, message, kind);

    private async Task RecordAsync(Guid vmId, string name, VmEventResult result, string message, string kind = VmEventKinds.StateChanged)
    {
        try
        {
            await _events.AddAsync(new VmEvent { VmId = vmId, VmName = name, Kind = kind, Result = result, Message = message },
                CancellationToken.None);
        }
        catch (Exception ex) when (ex is DbUpdateException or InvalidOperationException or ObjectDisposedException)
        {
            Log.EventLogFailed(_logger, ex, message);
        }
    }

    private async Task<VirtualMachine?> LoadAsync(Guid vmId, CancellationToken cancellationToken)
    {
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.VirtualMachines.AsNoTracking()
            .Include(vm => vm.KernelImage).Include(vm => vm.InitrdImage)
            .Include(vm => vm.Disks).ThenInclude(d => d.Image)
            .FirstOrDefaultAsync(vm => vm.Id == vmId, cancellationToken);
    }

    private SemaphoreSlim Gate(Guid vmId) => _gates.GetOrAdd(vmId, _ => new SemaphoreSlim(1, 1));

    /// <summary>Reattaches to VMMs that outlived the previous dashboard, clears stale folders, then starts autostart VMs.</summary>
    async Task IHostedService.StartAsync(CancellationToken cancellationToken)
    {
        _ = _program.Current; // Says in the log which platform-vmm VMs will run, and why that one.
        Directory.CreateDirectory(_runtimeRoot);
        List<VirtualMachine> vms;
        await using (var db = await _dbFactory.CreateDbContextAsync(cancellationToken))
        {
            vms = await db.VirtualMachines.AsNoTracking().IgnoreAutoIncludes().ToListAsync(cancellationToken);
        }

        var known = vms.ToDictionary(vm => vm.Id);
        foreach (string directory in Directory.GetDirectories(_runtimeRoot))
        {
            if (!Guid.TryParseExact(Path.GetFileName(directory), "N", out var vmId))
            {
                continue;
            }

            string name = known.TryGetValue(vmId, out var vm) ? vm.Name : vmId.ToString();
            if (await TryAttachAsync(vmId, name, directory, cancellationToken))
            {
                CrashRestarts.DeletePending(directory);
                continue;
            }

            VmmProcess.RemoveStaleFiles(directory);
            if (CrashRestarts.ReadPending(directory) is { } crashes)
            {
                await TakeOverRestartAsync(vm, directory, crashes);
            }
        }

        _statsLoop = PollStatsAsync(_stopping.Token);
        _ = Task.Run(() => AutostartAsync(vms.Where(vm => vm.Autostart).ToList()), CancellationToken.None);
    }

    /// <summary>A restart was due when the previous dashboard stopped: do it, if the VM still wants it.</summary>
    private async Task TakeOverRestartAsync(VirtualMachine? vm, string directory, List<DateTimeOffset> crashes)
    {
        if (vm is not { OnCrash: CrashPolicy.Restart })
        {
            CrashRestarts.DeletePending(directory);
            return;
        }

        var pending = new PendingRestart(vm.Id, vm.Name, _options.CrashRestartDelay, _stopping.Token);
        lock (_policyLock)
        {
            _crashes[vm.Id] = crashes;
            _restarts[vm.Id] = pending;
            _ended[vm.Id] = VmPowerState.Restarting;
        }

        string delay = CrashRestarts.Describe(pending.Delay);
        Publish(vm.Id, VmPowerState.Restarting, $"a restart after a crash was due when the dashboard stopped; restarting in {delay}");
        await RecordAsync(vm.Id, vm.Name, VmEventResult.Info,
            $"Restarting {vm.Name} in {delay}: its restart after a crash was due when the dashboard stopped.", VmEventKinds.CrashRestart);
        _ = Task.Run(() => RestartAfterAsync(pending), CancellationToken.None);
    }

    private async Task AutostartAsync(IReadOnlyList<VirtualMachine> vms)
    {
        // A VM with a restart pending gets it from the policy, not a second start from here.
        foreach (var vm in vms.Where(vm => !_running.ContainsKey(vm.Id) && !_restarts.ContainsKey(vm.Id)))
        {
            try
            {
                await StartAsync(vm.Id, _stopping.Token);
            }
            catch (VmRuntimeException ex)
            {
                await _events.AddAsync(new VmEvent
                {
                    VmId = vm.Id, VmName = vm.Name, Kind = VmEventKinds.Start, Result = VmEventResult.Failed,
                    Message = $"Autostart of {vm.Name} failed: {ex.Message}",
                }, CancellationToken.None);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task PollStatsAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.StatsInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                foreach (var vmm in _running.Values)
                {
                    if (await GetStatsAsync(vmm.VmId, cancellationToken) is { } stats)
                    {
                        _statsSubscribers.Publish(new VmStatsSample(vmm.VmId, stats, DateTimeOffset.UtcNow), _logger);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The dashboard is stopping.
        }
    }

    /// <summary>Lets go of the VMMs without stopping them: the next dashboard reattaches.</summary>
    async Task IHostedService.StopAsync(CancellationToken cancellationToken) => await DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync();
        await _statsLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        foreach (var vmm in _running.Values)
        {
            // Detach quietly: the monitor must not mistake our own disconnect for a crash.
            vmm.Detached = true;
            _running.TryRemove(vmm.VmId, out _);
            await vmm.Client.DisposeAsync();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Information, "VM {Name} started (VMM pid {Pid})")]
        public static partial void Started(ILogger logger, string name, int pid);

        [LoggerMessage(LogLevel.Information, "Reattached to VM {Name} (VMM pid {Pid})")]
        public static partial void Reattached(ILogger logger, string name, int pid);

        [LoggerMessage(LogLevel.Warning, "VM {Name} crashed: {Reason}")]
        public static partial void Crashed(ILogger logger, string name, string reason);

        [LoggerMessage(LogLevel.Warning, "VM {Name} will be restarted in {Delay} (on-crash policy)")]
        public static partial void Restarting(ILogger logger, string name, TimeSpan delay);

        [LoggerMessage(LogLevel.Error, "VM {Name} crashed {Crashes} times in the restart window: not restarted again")]
        public static partial void GaveUp(ILogger logger, string name, int crashes);

        [LoggerMessage(LogLevel.Warning, "Could not record a pending restart in {Directory}")]
        public static partial void PendingNotWritten(ILogger logger, Exception exception, string directory);

        [LoggerMessage(LogLevel.Warning, "Could not write to the event log: {Message}")]
        public static partial void EventLogFailed(ILogger logger, Exception exception, string message);
    }
}
