using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Orleans.Runtime;
using Platform.Web.Services.Runtime;

namespace Platform.Web.Services.Cluster;

/// <summary>
/// Live state across hosts: each host sends its own VMs' changes (and its event log entries) to every other active
/// host's agent grain, one after the other through an outbox per host (so each host gets them in order, and a slow
/// one holds up no other); each host keeps the last state per VM. A host that becomes active (every other host, when
/// this one starts) is asked for all its VMs' states; a host that leaves the active membership has its VMs announced
/// as <see cref="VmPowerState.HostUnreachable"/>. Which VMs a host owns is read from the database at start and every
/// <see cref="OwnersRefreshInterval"/> (VMs other dashboards made), and from every notice.
/// </summary>
internal sealed partial class ClusterVmRuntime
{
    public static readonly TimeSpan OwnersRefreshInterval = TimeSpan.FromSeconds(5);

    /// <summary>How long one host may take to take a change; a host that does not is left behind, not waited for.</summary>
    private static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(10);

    private HashSet<string> _activeHosts = new(StringComparer.Ordinal);

    async Task IHostedService.StartAsync(CancellationToken cancellationToken)
    {
        await RefreshOwnersAsync(cancellationToken);
        var stopping = _stopping.Token;
        _background = Task.WhenAll(
            Task.Run(() => WatchMembershipAsync(stopping), CancellationToken.None),
            Task.Run(() => RefreshOwnersEveryAsync(stopping), CancellationToken.None));
    }

    async Task IHostedService.StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        var senders = _outboxes.Values.Select(o => o.Sender).ToList();
        foreach (var outbox in _outboxes.Values)
        {
            outbox.Changes.Writer.TryComplete();
        }

        await Task.WhenAll([_background, .. senders]).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>
    /// This host's supervisor changed a VM's state: this host's subscribers hear it now, each other active host next,
    /// through an outbox of its own (a host that is slow to answer holds up only its own).
    /// </summary>
    private void OnLocalChange(VmStateChanged change)
    {
        long sequence = Interlocked.Increment(ref _sequence);
        _subscribers.Publish(change, _logger);
        Send(new OutboxItem(new VmStateNotice
        {
            VmId = change.VmId, State = (int)change.State, Reason = change.Reason, At = change.At, Incarnation = _incarnation, Sequence = sequence,
        }, null));
    }

    /// <summary>Queues <paramref name="item"/> for each other active host.</summary>
    private void Send(OutboxItem item)
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        foreach (string host in ActiveHosts(_membership.CurrentSnapshot))
        {
            _outboxes.GetOrAdd(host, NewOutbox).Changes.Writer.TryWrite(item);
        }
    }

    /// <summary>An event log entry another host added: this host's live readers (the event stream, the Events tabs) hear it.</summary>
    public void OnRemoteEvent(VmEventNotice entry) => _events.PublishAddedElsewhere(entry.ToEntry());

    /// <summary>One thing for another host: a state change or an event log entry.</summary>
    private sealed record OutboxItem(VmStateNotice? State, VmEventNotice? Event);

    /// <summary>The changes on their way to one host, in order, and the loop that sends them one at a time.</summary>
    private sealed record Outbox(Channel<OutboxItem> Changes, Task Sender);

    private Outbox NewOutbox(string host)
    {
        var changes = Channel.CreateUnbounded<OutboxItem>(new UnboundedChannelOptions { SingleReader = true });
        var stopping = _stopping.Token;
        return new Outbox(changes, Task.Run(() => SendChangesAsync(host, changes.Reader, stopping), CancellationToken.None));
    }

    /// <summary>A host left: what was on its way to it goes (it asks again when it is back).</summary>
    private void CloseOutbox(string host)
    {
        if (_outboxes.TryRemove(host, out var outbox))
        {
            outbox.Changes.Writer.TryComplete();
        }
    }

    /// <summary>A change from <paramref name="host"/>'s agent (or an answer of it): kept and published when it is news.</summary>
    public void OnRemoteChange(string host, VmStateNotice notice) => Apply(host, notice);

    private void Apply(string host, VmStateNotice notice)
    {
        if (string.Equals(host, ThisHost, StringComparison.Ordinal))
        {
            return;
        }

        lock (_remoteLock)
        {
            if (!notice.IsNewerThan(_remote.GetValueOrDefault(notice.VmId)))
            {
                return;
            }

            _owners[notice.VmId] = host;
            _remote[notice.VmId] = notice;
        }

        _subscribers.Publish(new VmStateChanged(notice.VmId, (VmPowerState)notice.State, notice.Reason, notice.At), _logger);
    }

    private async Task SendChangesAsync(string host, ChannelReader<OutboxItem> changes, CancellationToken stopping)
    {
        try
        {
            await foreach (var item in changes.ReadAllAsync(stopping))
            {
                await SendAsync(host, item, stopping);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private async Task SendAsync(string host, OutboxItem item, CancellationToken stopping)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(SendTimeout);
        try
        {
            await (item.State is { } notice
                ? Agent(host).StateChangedAsync(ThisHost, notice, timeout.Token)
                : Agent(host).EventAddedAsync(ThisHost, item.Event!, timeout.Token));
        }
        catch (Exception ex) when (!stopping.IsCancellationRequested)
        {
            // It learns the states again when it is next seen joining (GetStatesAsync); nothing to retry here.
            Log.RemoteCallFailed(_logger, host, ex);
        }
    }

    /// <summary>The other hosts that are active members, by name.</summary>
    private HashSet<string> ActiveHosts(ClusterMembershipSnapshot snapshot) =>
        snapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active && !string.Equals(m.Name, ThisHost, StringComparison.Ordinal))
            .Select(m => m.Name)
            .ToHashSet(StringComparer.Ordinal);

    private async Task WatchMembershipAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await foreach (var snapshot in _membership.MembershipUpdates.WithCancellation(stopping))
                {
                    OnMembership(ActiveHosts(snapshot), stopping);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Log.MembershipFailed(_logger, ex);
                await Task.Delay(TimeSpan.FromSeconds(1), stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private void OnMembership(HashSet<string> active, CancellationToken stopping)
    {
        var before = _activeHosts;
        _activeHosts = active;
        foreach (string gone in before.Where(h => !active.Contains(h)))
        {
            CloseOutbox(gone);
            MarkUnreachable(gone);
        }

        foreach (string joined in active.Where(h => !before.Contains(h)))
        {
            _ = LearnStatesAsync(joined, stopping);
        }
    }

    /// <summary>Its VMs' states are unknown now: forgotten, and announced as unreachable.</summary>
    private void MarkUnreachable(string host)
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var vmId in _owners.Where(o => string.Equals(o.Value, host, StringComparison.Ordinal)).Select(o => o.Key).ToList())
        {
            _subscribers.Publish(new VmStateChanged(vmId, VmPowerState.HostUnreachable, $"host {host} is unreachable", now), _logger);
        }
    }

    /// <summary>
    /// Asks a host that became active for its VMs' states; its VMs it does not list are stopped there (a host that
    /// comes back after being unreachable has them announced again).
    /// </summary>
    private async Task LearnStatesAsync(string host, CancellationToken stopping)
    {
        try
        {
            var notices = await Agent(host).GetStatesAsync(stopping);
            var listed = notices.Select(n => n.VmId).ToHashSet();
            foreach (var notice in notices)
            {
                Apply(host, notice);
            }

            var now = DateTimeOffset.UtcNow;
            foreach (var vmId in _owners.Where(o => string.Equals(o.Value, host, StringComparison.Ordinal) && !listed.Contains(o.Key)).Select(o => o.Key).ToList())
            {
                lock (_remoteLock)
                {
                    _remote.TryRemove(vmId, out _);
                }

                _subscribers.Publish(new VmStateChanged(vmId, VmPowerState.Stopped, null, now), _logger);
            }
        }
        catch (Exception ex) when (!stopping.IsCancellationRequested)
        {
            Log.RemoteCallFailed(_logger, host, ex);
        }
    }

    private async Task RefreshOwnersEveryAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(OwnersRefreshInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
            {
                try
                {
                    await RefreshOwnersAsync(stopping);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Log.OwnersFailed(_logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>Reads every VM's host again: VMs made, deleted or given a host by other dashboards.</summary>
    private async Task RefreshOwnersAsync(CancellationToken cancellationToken)
    {
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = await db.VirtualMachines.IgnoreAutoIncludes().Where(vm => vm.HostName != null && vm.HostName != ThisHost)
            .Select(vm => new { vm.Id, vm.HostName }).ToListAsync(cancellationToken);
        var current = rows.ToDictionary(r => r.Id, r => r.HostName!);
        var now = DateTimeOffset.UtcNow;
        foreach (var (vmId, host) in current)
        {
            bool news = !_owners.TryGetValue(vmId, out string? before) || !string.Equals(before, host, StringComparison.Ordinal);
            _owners[vmId] = host;
            if (news && !IsActive(host))
            {
                // Made (or given its host) elsewhere while its host was away: what the pages show changes now.
                _subscribers.Publish(new VmStateChanged(vmId, VmPowerState.HostUnreachable, $"host {host} is unreachable", now), _logger);
            }
        }

        foreach (var vmId in _owners.Keys.Where(id => !current.ContainsKey(id)).ToList())
        {
            _owners.TryRemove(vmId, out _);
        }
    }
}
