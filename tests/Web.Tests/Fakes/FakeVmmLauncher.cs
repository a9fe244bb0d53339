using System.Collections.Concurrent;
using System.Threading.Channels;
using Platform.Web.Data;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Supervisor;

namespace Platform.Web.Tests.Fakes;

/// <summary>
/// VMMs that exist only in the test: they start when the test lets them (<see cref="Gate"/>), fail as told, and
/// end, crash or ignore a quit as the test says, so the supervisor's races can be played move by move.
/// </summary>
internal sealed class FakeVmmLauncher : IVmmLauncher
{
    private int _nextPid = 1000;

    /// <summary>While set and not completed, launches wait for it (or for their cancellation).</summary>
    public TaskCompletionSource? Gate { get; set; }

    /// <summary>When set, a launch fails with it instead of starting a VMM.</summary>
    public Func<VmRuntimeException?>? Failure { get; set; }

    /// <summary>When true, a launch waiting at the gate ignores its cancellation (the VMM came up as the Stop arrived).</summary>
    public bool IgnoreCancellation { get; set; }

    /// <summary>VMMs "still running" in a folder, for reattaching.</summary>
    public ConcurrentDictionary<string, FakeVmm> Running { get; } = new();

    public ConcurrentQueue<FakeVmm> Launched { get; } = new();

    public int Launches => Launched.Count;

    public int CancelledLaunches;

    public async Task<IVmmHandle> LaunchAsync(VirtualMachine vm, string runtimeDirectory, CancellationToken cancellationToken)
    {
        if (Gate is { } gate)
        {
            try
            {
                await gate.Task.WaitAsync(IgnoreCancellation ? CancellationToken.None : cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref CancelledLaunches);
                throw;
            }
        }

        if (Failure?.Invoke() is { } failure)
        {
            throw failure;
        }

        Directory.CreateDirectory(runtimeDirectory); // as the real one does: the folder holds its sockets and the restart record
        var vmm = new FakeVmm(Interlocked.Increment(ref _nextPid), runtimeDirectory);
        Launched.Enqueue(vmm);
        Running[runtimeDirectory] = vmm;
        return vmm;
    }

    public Task<IVmmHandle?> TryAttachAsync(string runtimeDirectory, CancellationToken cancellationToken) =>
        Task.FromResult<IVmmHandle?>(Running.TryGetValue(runtimeDirectory, out var vmm) && vmm.Detached && !vmm.Gone
            ? vmm.Reattach()
            : null);

    public void RemoveStaleFiles(string runtimeDirectory)
    {
    }
}

/// <summary>One fake VMM: the test raises its events and decides how it answers a quit or a powerdown.</summary>
internal sealed class FakeVmm(int pid, string runtimeDirectory) : IVmmHandle
{
    private Channel<VmmControlEvent> _events = Channel.CreateUnbounded<VmmControlEvent>();
    private TaskCompletionSource<VmmEnd> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource<VmmEnd> _gone = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Pid { get; } = pid;

    public string RuntimeDirectory { get; } = runtimeDirectory;

    public VmRunState InitialState { get; set; } = VmRunState.Running;

    public ChannelReader<VmmControlEvent> Events => _events.Reader;

    public Task<VmmEnd> Ended => _ended.Task;

    /// <summary>False: a quit is answered but the VMM goes on (it is stuck), so only a kill ends it.</summary>
    public bool ObeysQuit { get; set; } = true;

    /// <summary>What the guest does with Ctrl-Alt-Del: true, it powers off.</summary>
    public bool ObeysPowerdown { get; set; } = true;

    public int Quits;
    public int Kills;
    public int Powerdowns;

    /// <summary>The supervisor let go of it without ending it (the dashboard stopped).</summary>
    public bool Detached { get; private set; }

    /// <summary>The process itself is gone (not merely let go of).</summary>
    public bool Gone => _gone.Task.IsCompleted;

    public void Raise(string name, string? reason = null) => _events.Writer.TryWrite(new VmmControlEvent(name, reason, DateTimeOffset.UtcNow));

    /// <summary>The process ends: its events are complete first, as a real connection's are.</summary>
    public void Exit(int? exitCode)
    {
        _events.Writer.TryComplete();
        _gone.TrySetResult(new VmmEnd(exitCode));
        _ended.TrySetResult(new VmmEnd(exitCode));
    }

    /// <summary>The guest powers off: SHUTDOWN, then exit 0.</summary>
    public void PowerOff(string reason = ControlProtocol.ShutdownReasons.GuestShutdown)
    {
        Raise(ControlProtocol.Events.Shutdown, reason);
        Exit(0);
    }

    /// <summary>A new dashboard connects to the VMM the old one let go of.</summary>
    public FakeVmm Reattach()
    {
        Detached = false;
        _events = Channel.CreateUnbounded<VmmControlEvent>();
        _ended = new TaskCompletionSource<VmmEnd>(TaskCreationOptions.RunContinuationsAsynchronously);
        return this;
    }

    public Task PauseAsync(CancellationToken cancellationToken)
    {
        Raise(ControlProtocol.Events.Stop);
        return Task.CompletedTask;
    }

    public Task ResumeAsync(CancellationToken cancellationToken)
    {
        Raise(ControlProtocol.Events.Resume);
        return Task.CompletedTask;
    }

    public Task ResetAsync(CancellationToken cancellationToken)
    {
        Raise(ControlProtocol.Events.Reset, "host reset");
        return Task.CompletedTask;
    }

    public Task PowerdownAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Powerdowns);
        if (ObeysPowerdown)
        {
            PowerOff();
        }

        return Task.CompletedTask;
    }

    public Task QuitAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Quits);
        if (ObeysQuit)
        {
            PowerOff(ControlProtocol.ShutdownReasons.HostQuit);
        }

        return Task.CompletedTask;
    }

    /// <summary>How often the supervisor read this VMM's counters.</summary>
    public int StatsQueries;

    public Task<VmmStats> QueryStatsAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref StatsQueries);
        return Task.FromResult(new VmmStats(1, 0, 64ul << 20, 1 << 20, [], []));
    }

    public void Kill()
    {
        Interlocked.Increment(ref Kills);
        Exit(128 + 9);
    }

    public ValueTask DisposeAsync()
    {
        if (!_ended.Task.IsCompleted)
        {
            Detached = true;
            _events.Writer.TryComplete();
            _ended.TrySetResult(new VmmEnd(null));
        }

        return ValueTask.CompletedTask;
    }
}
