namespace Platform.Web.Services.Runtime;

/// <summary>A change of one VM's power state, pushed to pages, the SignalR hub and the event log.</summary>
/// <param name="VmId">The VM definition's id.</param>
/// <param name="State">The new state.</param>
/// <param name="Reason">Why, in words for the user ("guest powered off", "VMM killed by signal 9"); null when obvious.</param>
/// <param name="At">When the supervisor saw it.</param>
public sealed record VmStateChanged(Guid VmId, VmPowerState State, string? Reason, DateTimeOffset At);

/// <summary>
/// The control plane's view of running VMs: the supervisor implements it over platform-vmm processes and their
/// control sockets; pages, the REST API and the hub use only this. Power methods return when the VMM has
/// acknowledged the action (or throw <see cref="VmRuntimeException"/> with the reason in words).
/// </summary>
public interface IVmRuntime
{
    VmPowerState GetState(Guid vmId);

    /// <summary>Starts a VMM for the stored definition. Throws if it is already running or cannot start.</summary>
    Task StartAsync(Guid vmId, CancellationToken cancellationToken);

    /// <summary>Asks the guest to shut down (Ctrl-Alt-Del), then ends the VMM if it has not exited after <paramref name="timeout"/>.</summary>
    Task ShutdownAsync(Guid vmId, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Ends the VMM at once, like pulling the plug.</summary>
    Task StopAsync(Guid vmId, CancellationToken cancellationToken);

    Task PauseAsync(Guid vmId, CancellationToken cancellationToken);

    Task ResumeAsync(Guid vmId, CancellationToken cancellationToken);

    Task ResetAsync(Guid vmId, CancellationToken cancellationToken);

    /// <summary>Calls <paramref name="handler"/> for every state change of any VM until the subscription is disposed.</summary>
    IDisposable Subscribe(Action<VmStateChanged> handler);

    /// <summary>The VM was deleted: its pending restart is cancelled and whatever still runs for it ends.</summary>
    Task ForgetAsync(Guid vmId, CancellationToken cancellationToken);
}

/// <summary>A power action the runtime could not carry out; the message is for the user.</summary>
public sealed class VmRuntimeException : Exception
{
    public VmRuntimeException(string message)
        : base(message)
    {
    }

    public VmRuntimeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public VmRuntimeException()
    {
    }

    /// <summary>
    /// True when the supervisor itself cannot act on any VM now (not running, shutting down): the API answers 503.
    /// False when this VM's state forbids the action or the VMM refused it: the API answers 409.
    /// </summary>
    public bool Unavailable { get; init; }

    /// <summary>The last lines of the VMM's <c>vmm.log</c> when they explain the failure (a VMM that would not start); else empty.</summary>
    public IReadOnlyList<string> VmmLog { get; init; } = [];
}
