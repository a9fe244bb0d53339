using System.Collections.Concurrent;
using Platform.Web.Services.Runtime;

namespace Platform.Web.Tests.Fakes;

/// <summary>
/// An <see cref="IVmRuntime"/> that records every call, moves VMs between states as a supervisor would, fails on
/// demand with a chosen <see cref="VmRuntimeException"/>, and lets a test push state changes to subscribers.
/// </summary>
public sealed class RecordingVmRuntime : IVmRuntime
{
    private readonly ConcurrentDictionary<Guid, VmPowerState> _states = new();
    private readonly List<Action<VmStateChanged>> _handlers = [];

    public ConcurrentQueue<(string Action, Guid VmId)> Calls { get; } = new();

    /// <summary>When set, the next power call throws it (once).</summary>
    public VmRuntimeException? NextFailure { get; set; }

    /// <summary>When set, power calls wait for it before finishing (to see progress in the UI).</summary>
    public TaskCompletionSource? Gate { get; set; }

    public TimeSpan? LastShutdownTimeout { get; private set; }

    public int SubscriberCount
    {
        get
        {
            lock (_handlers)
            {
                return _handlers.Count;
            }
        }
    }

    public VmPowerState GetState(Guid vmId) => _states.GetValueOrDefault(vmId, VmPowerState.Stopped);

    public void SetState(Guid vmId, VmPowerState state) => _states[vmId] = state;

    /// <summary>Sets the state and tells every subscriber, as the supervisor does when a VMM changes.</summary>
    public void Raise(Guid vmId, VmPowerState state, string? reason = null)
    {
        _states[vmId] = state;
        Action<VmStateChanged>[] handlers;
        lock (_handlers)
        {
            handlers = [.. _handlers];
        }

        foreach (var handler in handlers)
        {
            handler(new VmStateChanged(vmId, state, reason, DateTimeOffset.UtcNow));
        }
    }

    public Task StartAsync(Guid vmId, CancellationToken cancellationToken) => Act("start", vmId, VmPowerState.Running);

    public Task ShutdownAsync(Guid vmId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        LastShutdownTimeout = timeout;
        return Act("shutdown", vmId, VmPowerState.Stopped);
    }

    public Task StopAsync(Guid vmId, CancellationToken cancellationToken) => Act("stop", vmId, VmPowerState.Stopped);

    public Task PauseAsync(Guid vmId, CancellationToken cancellationToken) => Act("pause", vmId, VmPowerState.Paused);

    public Task ResumeAsync(Guid vmId, CancellationToken cancellationToken) => Act("resume", vmId, VmPowerState.Running);

    public Task ResetAsync(Guid vmId, CancellationToken cancellationToken) => Act("reset", vmId, VmPowerState.Running);

    /// <summary>Records the call (a deleted VM); the VM is Stopped afterwards.</summary>
    public Task ForgetAsync(Guid vmId, CancellationToken cancellationToken)
    {
        Calls.Enqueue(("forget", vmId));
        _states.TryRemove(vmId, out _);
        return Task.CompletedTask;
    }

    public IDisposable Subscribe(Action<VmStateChanged> handler)
    {
        lock (_handlers)
        {
            _handlers.Add(handler);
        }

        return new Unsubscriber(() =>
        {
            lock (_handlers)
            {
                _handlers.Remove(handler);
            }
        });
    }

    private async Task Act(string action, Guid vmId, VmPowerState after)
    {
        Calls.Enqueue((action, vmId));
        if (Gate is { } gate)
        {
            await gate.Task;
        }

        if (NextFailure is { } failure)
        {
            NextFailure = null;
            throw failure;
        }

        Raise(vmId, after);
    }

    private sealed class Unsubscriber(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }
}
