using Orleans;

namespace Platform.Web.Services.Cluster;

/// <summary>
/// One host's agent in the cluster: a grain keyed by the host's name and placed on that host's silo
/// (<see cref="HostPlacementAttribute"/>), so a call for it runs where the host's supervisor and VMMs are. Other
/// hosts send it the commands for its VMs and their own VMs' state changes.
/// </summary>
[Alias("platform.host-agent")]
public interface IHostAgentGrain : IGrainWithStringKey
{
    /// <summary>Carries out a power action on one of this host's VMs; failures come back in the result, not thrown.</summary>
    [Alias("command")]
    Task<VmCommandResult> CommandAsync(VmCommand command, CancellationToken cancellationToken);

    /// <summary>A VM's counters (<c>ControlJson</c>'s <c>VmmStats</c> as JSON); null when it is not running here.</summary>
    [Alias("stats")]
    Task<string?> GetStatsJsonAsync(Guid vmId, CancellationToken cancellationToken);

    /// <summary>The state of every VM this host's supervisor knows: how a host that joins learns them.</summary>
    [Alias("states")]
    Task<List<VmStateNotice>> GetStatesAsync(CancellationToken cancellationToken);

    /// <summary><paramref name="host"/>'s supervisor saw one of its VMs change state.</summary>
    [Alias("state-changed")]
    Task StateChangedAsync(string host, VmStateNotice notice, CancellationToken cancellationToken);

    /// <summary><paramref name="host"/> added an entry to the (shared) event log: this host's live readers hear it.</summary>
    [Alias("event-added")]
    Task EventAddedAsync(string host, VmEventNotice entry, CancellationToken cancellationToken);
}

/// <summary>An event log entry another host added (and stored), as it crosses to this host's live readers.</summary>
[GenerateSerializer, Immutable, Alias("platform.vm-event-notice")]
public sealed class VmEventNotice
{
    [Id(0)]
    public long Id { get; init; }

    [Id(1)]
    public DateTimeOffset At { get; init; }

    [Id(2)]
    public Guid? VmId { get; init; }

    [Id(3)]
    public string? VmName { get; init; }

    [Id(4)]
    public string Kind { get; init; } = "";

    [Id(5)]
    public string Message { get; init; } = "";

    /// <summary>A <see cref="Data.VmEventResult"/>, as its number.</summary>
    [Id(6)]
    public int Result { get; init; }

    public static VmEventNotice From(Data.VmEvent entry) => new()
    {
        Id = entry.Id, At = entry.At, VmId = entry.VmId, VmName = entry.VmName, Kind = entry.Kind, Message = entry.Message, Result = (int)entry.Result,
    };

    public Data.VmEvent ToEntry() => new()
    {
        Id = Id, At = At, VmId = VmId, VmName = VmName, Kind = Kind, Message = Message, Result = (Data.VmEventResult)Result,
    };
}

/// <summary>What a command asks of the owning host's supervisor.</summary>
[GenerateSerializer]
public enum VmCommandKind
{
    Start,
    Shutdown,
    Stop,
    Pause,
    Resume,
    Reset,
    Forget,
}

[GenerateSerializer, Immutable, Alias("platform.vm-command")]
public sealed class VmCommand
{
    [Id(0)]
    public Guid VmId { get; init; }

    [Id(1)]
    public VmCommandKind Kind { get; init; }

    /// <summary>Shutdown: how long the guest has before its VMM is ended.</summary>
    [Id(2)]
    public TimeSpan Timeout { get; init; }
}

/// <summary>
/// How a command went on the owning host: its <see cref="Runtime.VmRuntimeException"/>'s message, flag and log when
/// it failed (rebuilt on the caller's side, so the API answers the same as on one host), and the VM's state after.
/// </summary>
[GenerateSerializer, Immutable, Alias("platform.vm-command-result")]
public sealed class VmCommandResult
{
    [Id(0)]
    public string? Error { get; init; }

    [Id(1)]
    public bool Unavailable { get; init; }

    [Id(2)]
    public List<string> VmmLog { get; init; } = [];

    [Id(3)]
    public VmStateNotice? State { get; init; }
}

/// <summary>
/// One VM's power state on its host. <see cref="Incarnation"/> (when the host's dashboard started) and
/// <see cref="Sequence"/> (that run's count of state changes) order notices that arrive by different paths: a
/// command's answer may overtake the fan-out of an earlier change, which must then not win.
/// </summary>
[GenerateSerializer, Immutable, Alias("platform.vm-state-notice")]
public sealed class VmStateNotice
{
    [Id(0)]
    public Guid VmId { get; init; }

    /// <summary>A <see cref="Runtime.VmPowerState"/>, as its number.</summary>
    [Id(1)]
    public int State { get; init; }

    [Id(2)]
    public string? Reason { get; init; }

    [Id(3)]
    public DateTimeOffset At { get; init; }

    [Id(4)]
    public long Incarnation { get; init; }

    [Id(5)]
    public long Sequence { get; init; }

    /// <summary>Whether this notice says something later than <paramref name="other"/> (from the same host).</summary>
    public bool IsNewerThan(VmStateNotice? other) =>
        other is null || Incarnation > other.Incarnation || (Incarnation == other.Incarnation && Sequence > other.Sequence);
}
