using System.Threading.Channels;
using Platform.Web.Data;
using Platform.Web.Services.Metrics;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;

namespace Platform.Web.Services.Supervisor;

/// <summary>
/// The one owner of one VM's runtime state. Users' commands, the VMM's events, its end, launches finishing and
/// restart timers all arrive in one mailbox and are handled one at a time, so no two of them can interleave:
/// a Stop during a Start calls the launch off, a Stop during a restart's pause cancels it, two Starts share one
/// launch. Work that takes long (launching, quitting, commands to the VMM) runs outside the loop and reports back
/// through the mailbox. <see cref="State"/> and <see cref="Vmm"/> may be read from any thread.
/// </summary>
internal sealed partial class VmActor : IAsyncDisposable
{
    private readonly Channel<VmActorMessage> _mailbox = Channel.CreateUnbounded<VmActorMessage>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SupervisorContext _context;
    private readonly Task _loop;
    private readonly List<TaskCompletionSource> _endWaiters = [];
    private readonly List<TaskCompletionSource> _shutdownWaiters = [];
    private List<DateTimeOffset> _crashes = [];
    private LaunchAttempt? _launch;
    private PendingRestart? _restart;
    private VmmRun? _run;
    private volatile IVmmHandle? _vmm;

    /// <summary>The VMM whose lost runtime folder was reported (<see cref="CheckFolder"/>), so it is reported once.</summary>
    private IVmmHandle? _folderLostFor;
    private volatile VmPowerState _state = VmPowerState.Stopped;
    private string _name;

    public VmActor(Guid vmId, string? name, SupervisorContext context)
    {
        VmId = vmId;
        _name = name ?? vmId.ToString();
        _context = context;
        // The loop must not inherit the flow of whoever made the actor (a request's task and user would be on every
        // line the actor ever logs): it starts clean, with this VM's id as its only logging scope.
        using (ExecutionContext.SuppressFlow())
        {
            _loop = Task.Run(RunAsync);
        }
    }

    public Guid VmId { get; }

    public VmPowerState State => _state;

    /// <summary>The running VMM, for counters and sockets; null when none runs.</summary>
    public IVmmHandle? Vmm => _vmm;

    private string RuntimeDirectory => _context.RuntimeDirectoryOf(VmId);

    public Task StartAsync(CancellationToken cancellationToken) => SendAsync(new StartCommand(), cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => SendAsync(new StopCommand(), cancellationToken);

    public Task ShutdownAsync(TimeSpan timeout, CancellationToken cancellationToken) => SendAsync(new ShutdownCommand(timeout), cancellationToken);

    public Task CommandAsync(VmmCommandKind kind, CancellationToken cancellationToken) => SendAsync(new VmmCommand(kind), cancellationToken);

    public Task ForgetAsync(CancellationToken cancellationToken) => SendAsync(new ForgetCommand(), cancellationToken);

    public Task AttachAsync(IVmmHandle vmm, string name) => SendAsync(new AttachCommand(vmm, name), CancellationToken.None);

    public Task TakeOverRestartAsync(string name, List<DateTimeOffset> crashes) =>
        SendAsync(new TakeOverRestartCommand(name, crashes), CancellationToken.None);

    /// <summary>Posts a command and waits for its outcome; cancelling stops the wait, not the command.</summary>
    private async Task SendAsync(VmActorMessage command, CancellationToken cancellationToken)
    {
        var reply = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_mailbox.Writer.TryWrite(command with { Reply = reply }))
        {
            throw new VmRuntimeException("The VM supervisor is stopping.") { Unavailable = true };
        }

        try
        {
            await reply.Task.WaitAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            PlatformMeter.SupervisorAction(ActionName(command), succeeded: false);
            throw;
        }

        PlatformMeter.SupervisorAction(ActionName(command), succeeded: true);
    }

    /// <summary>"start", "pause"…: the metrics' action label.</summary>
    private static string ActionName(VmActorMessage command) => command switch
    {
        VmmCommand vmm => vmm.Kind.ToString().ToLowerInvariant(),
        _ => command.GetType().Name.Replace("Command", "", StringComparison.Ordinal).ToLowerInvariant(),
    };

    /// <summary>For the actor's own background work: reports back into the mailbox (dropped once the actor is done).</summary>
    private void Post(VmActorMessage message) => _mailbox.Writer.TryWrite(message);

    private async Task RunAsync()
    {
        // Whatever the actor logs, and the launches and followers it starts, carry the VM's id.
        using var scope = _context.Logger.BeginScope(LogScope.ForVm(VmId));
        await foreach (var message in _mailbox.Reader.ReadAllAsync())
        {
            try
            {
                await HandleAsync(message);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                SupervisorContext.Log.ActorFailed(_context.Logger, ex, VmId, message.GetType().Name);
                message.Reply?.TrySetException(ex is VmRuntimeException ? ex : new VmRuntimeException($"The supervisor failed: {ex.Message}", ex));
            }
        }
    }

    private Task HandleAsync(VmActorMessage message)
    {
        switch (message)
        {
            case StartCommand start:
                Start(start.Reply!);
                return Task.CompletedTask;
            case StopCommand stop:
                return StopAsync(stop.Reply!, shutdown: null);
            case ShutdownCommand shutdown:
                return StopAsync(shutdown.Reply!, shutdown.Timeout);
            case VmmCommand command:
                Command(command.Kind, command.Reply!);
                return Task.CompletedTask;
            case VmmCommandDone done:
                CommandDone(done.Vmm, done.Kind, done.Reply!);
                return Task.CompletedTask;
            case ForgetCommand forget:
                return ForgetAsync(forget.Reply!);
            case DetachCommand detach:
                return DetachAsync(detach.Reply!);
            case AttachCommand attach:
                return AdoptAsync(attach.Vmm, attach.Name, attached: true, restart: false, [attach.Reply!]);
            case TakeOverRestartCommand takeOver:
                return TakeOverRestartAsync(takeOver);
            case LaunchCompleted launched:
                return LaunchCompletedAsync(launched);
            case VmmEventArrived arrived:
                return OnVmmEventAsync(arrived.Vmm, arrived.Event);
            case VmmEnded ended:
                return OnVmmEndedAsync(ended.Vmm, ended.End);
            case RestartDue due when due.Restart == _restart:
                _restart = null;
                BeginLaunch(restart: true, reply: null);
                return Task.CompletedTask;
            case RuntimeFolderLost lost:
                return OnRuntimeFolderLostAsync(lost.Vmm);
            case ShutdownOverdue overdue when overdue.Vmm == _vmm && _run is { ShutdownCutShort: null } run:
                run.ShutdownCutShort = $"the guest did not shut down within {overdue.Timeout.TotalSeconds:0.#} s, so it was stopped";
                BeginQuit(overdue.Vmm);
                return _context.RecordAsync(VmId, _name, VmEventResult.Info,
                    $"{_name} did not shut down within {overdue.Timeout.TotalSeconds:0.#} s; stopping it.");
            default:
                return Task.CompletedTask; // A timer or a VMM this actor has let go of since.
        }
    }

    private void Start(TaskCompletionSource reply)
    {
        if (_launch is { } launching)
        {
            launching.Waiters.Add(reply); // Pressed twice, or by two users: one VMM, and both hear when it runs.
            return;
        }

        if (_vmm is not null)
        {
            reply.TrySetException(new VmRuntimeException("The VM is already running."));
            return;
        }

        // A start by hand replaces a pending restart, and the crash count begins afresh.
        CancelPendingRestart();
        _crashes = [];
        BeginLaunch(restart: false, reply);
    }

    /// <summary>Stop (<paramref name="shutdown"/> null) or Shutdown: the reply completes when nothing runs any more.</summary>
    private async Task StopAsync(TaskCompletionSource reply, TimeSpan? shutdown)
    {
        if (_launch is { } launching)
        {
            _endWaiters.Add(reply);
            launching.Cancel(); // The launch ends the VMM it was starting, or its result is stopped when it comes.
            return;
        }

        if (_vmm is { } vmm && _run is { } run)
        {
            run.StopRequested = true;
            if (shutdown is { } timeout)
            {
                // A Shut down succeeds only if the guest powers off; the VMM's end decides (OnVmmEndedAsync).
                _shutdownWaiters.Add(reply);
                run.ShutdownRequested = true;
                SetState(VmPowerState.Stopping, "shutdown requested", force: true);
                _ = PowerdownAsync(vmm, timeout, reply);
            }
            else
            {
                _endWaiters.Add(reply);
                if (run.ShutdownRequested)
                {
                    // Stop stays available while a guest takes its time to shut down; the story then says so.
                    run.ShutdownCutShort ??= "stopped from the dashboard before the guest finished shutting down";
                }

                BeginQuit(vmm);
            }

            return;
        }

        if (CancelPendingRestart())
        {
            _crashes = [];
            SetState(VmPowerState.Stopped, "the restart after its crash was cancelled", force: true);
            await _context.RecordAsync(VmId, _name, VmEventResult.Info, $"Cancelled the restart of {_name}: it stays stopped.", VmEventKinds.CrashRestart);
            reply.TrySetResult();
            return;
        }

        reply.TrySetException(NotRunning());
    }

    private async Task PowerdownAsync(IVmmHandle vmm, TimeSpan timeout, TaskCompletionSource reply)
    {
        try
        {
            await vmm.PowerdownAsync(CancellationToken.None);
        }
        catch (VmRuntimeException ex)
        {
            SupervisorContext.Log.CommandFailed(_context.Logger, ex, _name, "system_powerdown");
            reply.TrySetException(ex);
            return;
        }

        try
        {
            await vmm.Ended.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            Post(new ShutdownOverdue(vmm, timeout));
        }
    }

    private void Command(VmmCommandKind kind, TaskCompletionSource reply)
    {
        if (_vmm is not { } vmm || _launch is not null)
        {
            reply.TrySetException(NotRunning());
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await (kind switch
                {
                    VmmCommandKind.Pause => vmm.PauseAsync(CancellationToken.None),
                    VmmCommandKind.Resume => vmm.ResumeAsync(CancellationToken.None),
                    _ => vmm.ResetAsync(CancellationToken.None),
                });
                if (!_mailbox.Writer.TryWrite(new VmmCommandDone(vmm, kind) { Reply = reply }))
                {
                    reply.TrySetResult(); // the actor has ended: nothing is left to order the answer after
                }
            }
            catch (VmRuntimeException ex)
            {
                SupervisorContext.Log.CommandFailed(_context.Logger, ex, _name, kind.ToString());
                reply.TrySetException(ex);
            }
        });
    }

    /// <summary>
    /// A pause or resume the VMM carried out is the VM's state from now on, whether or not its event has come yet:
    /// the caller reads the state as soon as it hears back (the API answers with it).
    /// </summary>
    private void CommandDone(IVmmHandle vmm, VmmCommandKind kind, TaskCompletionSource reply)
    {
        if (vmm == _vmm && _launch is null)
        {
            switch (kind)
            {
                case VmmCommandKind.Pause:
                    SetState(VmPowerState.Paused, null);
                    break;
                case VmmCommandKind.Resume:
                    SetState(VmPowerState.Running, null);
                    break;
            }
        }

        reply.TrySetResult();
    }

    /// <summary>Asks the VMM to quit; kills it when it has not ended within the quit timeout. Its end comes through the mailbox.</summary>
    private void BeginQuit(IVmmHandle vmm)
    {
        SetState(VmPowerState.Stopping, null);
        var timeout = _context.Options.QuitTimeout;
        _ = Task.Run(async () =>
        {
            try
            {
                await vmm.QuitAsync(CancellationToken.None).WaitAsync(timeout);
                await vmm.Ended.WaitAsync(timeout);
            }
            catch (Exception ex) when (ex is VmRuntimeException or TimeoutException)
            {
                if (!vmm.Ended.IsCompleted)
                {
                    // It cannot be asked (no answer, or its control connection is gone): it is ended by its pid.
                    SupervisorContext.Log.QuitFailed(_context.Logger, ex, _name, vmm.Pid);
                    vmm.Kill();
                }
            }
        });
    }

    private async Task ForgetAsync(TaskCompletionSource reply)
    {
        CancelPendingRestart();
        _crashes = [];
        if (_launch is not null || _vmm is not null)
        {
            await StopAsync(reply, shutdown: null); // Whatever runs for a deleted VM ends; the reply waits for that.
            return;
        }

        reply.TrySetResult();
    }

    private async Task DetachAsync(TaskCompletionSource reply)
    {
        _restart?.Cancel(); // The restart record stays in the folder: the next dashboard does it.
        _restart = null;
        // A launch under way finishes without this dashboard (the next one reattaches to what it started).
        var stopping = new VmRuntimeException("The dashboard is stopping.") { Unavailable = true };
        _launch?.Waiters.ForEach(w => w.TrySetException(stopping));
        _endWaiters.Concat(_shutdownWaiters).ToList().ForEach(w => w.TrySetException(stopping));
        _endWaiters.Clear();
        _shutdownWaiters.Clear();
        if (_vmm is { } vmm)
        {
            _vmm = null; // Its end is no longer this dashboard's to record.
            _run = null;
            await vmm.DisposeAsync();
        }

        reply.TrySetResult();
    }

    private bool CancelPendingRestart()
    {
        if (_restart is not { } pending)
        {
            return false;
        }

        pending.Cancel();
        _restart = null;
        CrashRestarts.DeletePending(RuntimeDirectory);
        return true;
    }

    private void SetState(VmPowerState state, string? reason, bool force = false)
    {
        if (_state == state && !force)
        {
            return;
        }

        _state = state;
        _context.Publish(VmId, state, reason);
    }

    private static VmRuntimeException NotRunning() => new("The VM is not running.");

    /// <summary>Lets go of the VMM without stopping it and ends the mailbox.</summary>
    public async ValueTask DisposeAsync()
    {
        var reply = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (_mailbox.Writer.TryWrite(new DetachCommand { Reply = reply }))
        {
            await reply.Task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _mailbox.Writer.TryComplete();
        await _loop;
    }
}
