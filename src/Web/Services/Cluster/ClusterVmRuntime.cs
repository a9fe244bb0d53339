using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Orleans;
using Orleans.Runtime;
using Platform.Web.Data;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Supervisor;

namespace Platform.Web.Services.Cluster;

/// <summary>
/// The runtime of every VM on a host of a cluster: a VM this host owns (or one with no host) goes to this host's
/// <see cref="VmSupervisor"/>; another host's VM goes to that host's agent grain (<see cref="IHostAgentGrain"/>),
/// which runs on that host's silo and calls its supervisor. Reads never wait on the network: a remote VM's state is
/// the last one its host sent (<see cref="ClusterVmRuntime"/>'s events part), and a VM whose host is not an active
/// member of the cluster is <see cref="VmPowerState.HostUnreachable"/>, never Stopped.
/// </summary>
internal sealed partial class ClusterVmRuntime : IVmRuntime, IVmRuntimeInfo, IHostedService, IDisposable
{
    private readonly VmSupervisor _local;
    private readonly IGrainFactory _grains;
    private readonly IClusterMembershipService _membership;
    private readonly IDbContextFactory<PlatformDbContext> _dbFactory;
    private readonly ILogger<ClusterVmRuntime> _logger;
    private readonly Subscribers<VmStateChanged> _subscribers = new();

    /// <summary>Every VM that has a host other than this one, by id: which host. Read by <see cref="GetState"/>, so kept in memory.</summary>
    private readonly ConcurrentDictionary<Guid, string> _owners = new();

    /// <summary>The last state each other host sent for its VMs.</summary>
    private readonly ConcurrentDictionary<Guid, VmStateNotice> _remote = new();
    private readonly Lock _remoteLock = new();

    /// <summary>This host's own changes, in order, on their way to each other host.</summary>
    private readonly ConcurrentDictionary<string, Outbox> _outboxes = new(StringComparer.Ordinal);
    private readonly IDisposable _localChanges;
    private readonly IDisposable _localEvents;
    private readonly Vms.VmEventLog _events;
    private readonly CancellationTokenSource _stopping = new();
    private readonly long _incarnation = DateTimeOffset.UtcNow.UtcTicks;
    private long _sequence;
    private Task _background = Task.CompletedTask;

    public ClusterVmRuntime(
        VmSupervisor local, IGrainFactory grains, IClusterMembershipService membership, IDbContextFactory<PlatformDbContext> dbFactory,
        ClusterSettings cluster, Vms.VmEventLog events, ILogger<ClusterVmRuntime> logger)
    {
        _events = events;
        _local = local;
        _grains = grains;
        _membership = membership;
        _dbFactory = dbFactory;
        _logger = logger;
        ThisHost = cluster.HostName;
        // Subscribed before the supervisor starts (hosted services are all made before any starts): the VMMs it
        // reattaches are news for the other hosts too.
        _localChanges = local.Subscribe(OnLocalChange);
        // The event log is shared (the database), its live readers are not: entries added here go to the others too.
        _localEvents = events.SubscribeAdded(entry => Send(new OutboxItem(null, VmEventNotice.From(entry))));
    }

    public string ThisHost { get; }

    /// <summary>How many state changes this host's supervisor has made in this run; a notice read now is at least this new.</summary>
    public long Sequence => Interlocked.Read(ref _sequence);

    public VmPowerState GetState(Guid vmId)
    {
        if (RemoteHostOf(vmId) is not { } host)
        {
            return _local.GetState(vmId);
        }

        if (!IsActive(host))
        {
            return VmPowerState.HostUnreachable;
        }

        return _remote.TryGetValue(vmId, out var notice) ? (VmPowerState)notice.State : VmPowerState.Stopped;
    }

    public IDisposable Subscribe(Action<VmStateChanged> handler) => _subscribers.Add(handler);

    public Task StartAsync(Guid vmId, CancellationToken cancellationToken) =>
        RunAsync(new VmCommand { VmId = vmId, Kind = VmCommandKind.Start }, () => _local.StartAsync(vmId, cancellationToken), cancellationToken);

    public Task ShutdownAsync(Guid vmId, TimeSpan timeout, CancellationToken cancellationToken) =>
        RunAsync(new VmCommand { VmId = vmId, Kind = VmCommandKind.Shutdown, Timeout = timeout }, () => _local.ShutdownAsync(vmId, timeout, cancellationToken), cancellationToken);

    public Task StopAsync(Guid vmId, CancellationToken cancellationToken) =>
        RunAsync(new VmCommand { VmId = vmId, Kind = VmCommandKind.Stop }, () => _local.StopAsync(vmId, cancellationToken), cancellationToken);

    public Task PauseAsync(Guid vmId, CancellationToken cancellationToken) =>
        RunAsync(new VmCommand { VmId = vmId, Kind = VmCommandKind.Pause }, () => _local.PauseAsync(vmId, cancellationToken), cancellationToken);

    public Task ResumeAsync(Guid vmId, CancellationToken cancellationToken) =>
        RunAsync(new VmCommand { VmId = vmId, Kind = VmCommandKind.Resume }, () => _local.ResumeAsync(vmId, cancellationToken), cancellationToken);

    public Task ResetAsync(Guid vmId, CancellationToken cancellationToken) =>
        RunAsync(new VmCommand { VmId = vmId, Kind = VmCommandKind.Reset }, () => _local.ResetAsync(vmId, cancellationToken), cancellationToken);

    /// <summary>The VM is deleted (its row is gone by now, so its host comes from memory): its host lets go of it.</summary>
    public async Task ForgetAsync(Guid vmId, CancellationToken cancellationToken)
    {
        await RunAsync(new VmCommand { VmId = vmId, Kind = VmCommandKind.Forget }, () => _local.ForgetAsync(vmId, cancellationToken), cancellationToken);
        _owners.TryRemove(vmId, out _);
        _remote.TryRemove(vmId, out _);
    }

    public async Task<VmmStats?> GetStatsAsync(Guid vmId, CancellationToken cancellationToken)
    {
        if (RemoteHostOf(vmId) is not { } host)
        {
            return await _local.GetStatsAsync(vmId, cancellationToken);
        }

        if (!IsActive(host))
        {
            return null;
        }

        try
        {
            string? json = await Agent(host).GetStatsJsonAsync(vmId, cancellationToken);
            return json is null ? null : System.Text.Json.JsonSerializer.Deserialize(json, ControlJson.Default.VmmStats);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.RemoteCallFailed(_logger, host, ex);
            return null; // As for a VMM that is ending: no counters now.
        }
    }

    /// <summary>A remote VM's sockets are on its host: none here (consoles are not bridged across hosts yet).</summary>
    public string? GetSocketPath(Guid vmId, VmSocket socket) => RemoteHostOf(vmId) is null ? _local.GetSocketPath(vmId, socket) : null;

    /// <summary>This host's VMs' counters only; other hosts' VMs' counters are read on demand (<see cref="GetStatsAsync"/>).</summary>
    public IDisposable SubscribeStats(Action<VmStatsSample> handler) => _local.SubscribeStats(handler);

    /// <summary>This host's VMs are read live while watched; another host's VM's readings do not come here yet.</summary>
    public IDisposable WatchStats(Guid vmId) => _local.WatchStats(vmId);

    /// <summary>The history's tick reads this host's running VMs; each host records its own.</summary>
    public Task SampleAllAsync(CancellationToken cancellationToken) => _local.SampleAllAsync(cancellationToken);

    /// <summary>The host whose VM this is when that is not this host; null for this host's VMs and those with no host.</summary>
    public string? RemoteHostOf(Guid vmId) => _owners.TryGetValue(vmId, out string? host) ? host : null;

    /// <summary>Whether <paramref name="host"/> is an active member now, by this silo's view of the membership (in memory).</summary>
    public bool IsActive(string host) =>
        _membership.CurrentSnapshot.Members.Values.Any(m => m.Status == SiloStatus.Active && string.Equals(m.Name, host, StringComparison.Ordinal));

    /// <summary>The VM's state on this host, as at least as new as every change already sent.</summary>
    public VmStateNotice LocalNotice(Guid vmId)
    {
        long sequence = Sequence; // First: a change made after this read has a higher number and wins where it lands.
        return new VmStateNotice
        {
            VmId = vmId, State = (int)_local.GetState(vmId), At = DateTimeOffset.UtcNow, Incarnation = _incarnation, Sequence = sequence,
        };
    }

    private IHostAgentGrain Agent(string host) => _grains.GetGrain<IHostAgentGrain>(host);

    private async Task RunAsync(VmCommand command, Func<Task> local, CancellationToken cancellationToken)
    {
        if (await OwnerAsync(command.VmId, cancellationToken) is not { } host)
        {
            await local();
            return;
        }

        if (!IsActive(host))
        {
            throw Unreachable(host, null);
        }

        VmCommandResult result;
        try
        {
            result = await Agent(host).CommandAsync(command, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            throw Unreachable(host, ex);
        }

        if (result.State is { } state)
        {
            Apply(host, state);
        }

        if (result.Error is { } error)
        {
            throw new VmRuntimeException(error) { Unavailable = result.Unavailable, VmmLog = result.VmmLog };
        }
    }

    private static VmRuntimeException Unreachable(string host, Exception? inner)
    {
        const string notMember = "it is not an active member of the cluster";
        return inner switch
        {
            null => new VmRuntimeException($"The VM's host {host} is unreachable: {notMember}.") { Unavailable = true },
            HostUnreachableException => new VmRuntimeException($"The VM's host {host} is unreachable: {notMember}.", inner) { Unavailable = true },
            _ => new VmRuntimeException($"The VM's host {host} is unreachable: {inner.Message}", inner) { Unavailable = true },
        };
    }

    /// <summary>The VM's host when it is another one, read from the database (a command is worth the round trip: it must go to the right host).</summary>
    private async Task<string?> OwnerAsync(Guid vmId, CancellationToken cancellationToken)
    {
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        var row = await db.VirtualMachines.IgnoreAutoIncludes().Where(vm => vm.Id == vmId).Select(vm => new { vm.HostName }).FirstOrDefaultAsync(cancellationToken);
        if (row is null)
        {
            return RemoteHostOf(vmId); // Deleted: its host is the one it had.
        }

        SetOwner(vmId, row.HostName);
        return RemoteHostOf(vmId);
    }

    private void SetOwner(Guid vmId, string? host)
    {
        if (host is null || string.Equals(host, ThisHost, StringComparison.Ordinal))
        {
            _owners.TryRemove(vmId, out _);
        }
        else
        {
            _owners[vmId] = host;
        }
    }

    public void Dispose()
    {
        _localChanges.Dispose();
        _localEvents.Dispose();
        _stopping.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Warning, "A call to host {Host}'s agent failed")]
        public static partial void RemoteCallFailed(ILogger logger, string host, Exception exception);

        [LoggerMessage(LogLevel.Warning, "Reading the cluster's membership failed; trying again")]
        public static partial void MembershipFailed(ILogger logger, Exception exception);

        [LoggerMessage(LogLevel.Warning, "Reading the VMs' hosts failed; trying again")]
        public static partial void OwnersFailed(ILogger logger, Exception exception);
    }
}
