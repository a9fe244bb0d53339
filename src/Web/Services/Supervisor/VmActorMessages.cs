using Platform.Web.Services.Runtime;

namespace Platform.Web.Services.Supervisor;

/// <summary>What a <see cref="VmActor"/>'s mailbox carries: users' commands and what its VMM and timers report.</summary>
internal abstract record VmActorMessage
{
    /// <summary>Set when the message is a command someone awaits; a failure while handling it goes there.</summary>
    public TaskCompletionSource? Reply { get; init; }
}

internal sealed record StartCommand : VmActorMessage;

internal sealed record StopCommand : VmActorMessage;

internal sealed record ShutdownCommand(TimeSpan Timeout) : VmActorMessage;

internal enum VmmCommandKind
{
    Pause,
    Resume,
    Reset,
}

internal sealed record VmmCommand(VmmCommandKind Kind) : VmActorMessage;

/// <summary>
/// The VMM answered a command. It goes through the mailbox so that what the VMM reported before its answer (a pause's
/// STOP event) is handled before the caller hears back and reads the VM's state.
/// </summary>
internal sealed record VmmCommandDone(IVmmHandle Vmm, VmmCommandKind Kind) : VmActorMessage;

/// <summary>The VM was deleted: nothing of it may run or restart any more.</summary>
internal sealed record ForgetCommand : VmActorMessage;

/// <summary>The dashboard is stopping: let go of the VMM without ending it.</summary>
internal sealed record DetachCommand : VmActorMessage;

/// <summary>At start-up: a VMM an earlier dashboard started still runs this VM.</summary>
internal sealed record AttachCommand(IVmmHandle Vmm, string Name) : VmActorMessage;

/// <summary>At start-up: a restart after a crash was due when the last dashboard stopped.</summary>
internal sealed record TakeOverRestartCommand(string Name, List<DateTimeOffset> Crashes) : VmActorMessage;

/// <summary>A launch finished: a running VMM, or why not (<see cref="Error"/>; neither when it was called off).</summary>
internal sealed record LaunchCompleted(LaunchAttempt Attempt, IVmmHandle? Vmm, bool Attached, string? Name, VmRuntimeException? Error) : VmActorMessage;

internal sealed record VmmEventArrived(IVmmHandle Vmm, VmmControlEvent Event) : VmActorMessage;

internal sealed record VmmEnded(IVmmHandle Vmm, VmmEnd End) : VmActorMessage;

internal sealed record RestartDue(PendingRestart Restart) : VmActorMessage;

/// <summary>The running VMM's runtime folder is gone (deleted by hand): its sockets can no longer be reached by path.</summary>
internal sealed record RuntimeFolderLost(IVmmHandle Vmm) : VmActorMessage;

internal sealed record ShutdownOverdue(IVmmHandle Vmm, TimeSpan Timeout) : VmActorMessage;

/// <summary>A launch under way; a Stop calls it off through <see cref="Cancel"/>.</summary>
/// <remarks>Its token source is not disposed: the launch may still hold its token when the attempt is forgotten, and a
/// token source without a timer holds nothing that needs releasing.</remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "See remarks: nothing to release, and the token outlives the attempt.")]
internal sealed class LaunchAttempt(bool restart)
{
    private readonly CancellationTokenSource _cancel = new();

    /// <summary>Started by the on-crash policy rather than a user: a failure counts as another crash.</summary>
    public bool Restart { get; } = restart;

    /// <summary>A restart's task in the task log (begun by the launch, ended when the launch reports back).</summary>
    public Platform.Web.Services.Tasks.TaskScope? RestartTask { get; set; }

    /// <summary>Those waiting for the VM to run (two users pressing Start at once share one launch).</summary>
    public List<TaskCompletionSource> Waiters { get; } = [];

    public bool StopRequested { get; private set; }

    public CancellationToken Token => _cancel.Token;

    public void Cancel()
    {
        StopRequested = true;
        _cancel.Cancel();
    }
}

/// <summary>A restart the on-crash policy scheduled; cancelled when a user takes the VM over or the dashboard stops.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The delay may still hold its token; a linked source is released with the dashboard's.")]
internal sealed class PendingRestart(TimeSpan delay, CancellationToken stopping)
{
    private readonly CancellationTokenSource _cancel = CancellationTokenSource.CreateLinkedTokenSource(stopping);

    public TimeSpan Delay { get; } = delay;

    public CancellationToken Token => _cancel.Token;

    public void Cancel() => _cancel.Cancel();
}
