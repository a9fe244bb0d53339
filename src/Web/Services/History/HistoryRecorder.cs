using System.Collections.Concurrent;
using Platform.Web.Data;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;

namespace Platform.Web.Services.History;

/// <summary>A point just recorded: a VM's (<see cref="VmId"/> set) or the host's (null), for charts that are open.</summary>
public sealed record HistoryPoint(Guid? VmId, DateTimeOffset At, double[] Values);

/// <summary>
/// Every <see cref="HistoryArchives.SampleInterval"/> on the injected clock, records each running VM's rates since the
/// previous tick (from the supervisor's own query-stats samples, so it costs no extra VMM round trip) and the host's
/// figures, then tells subscribers; every minute it fsyncs the files written. VMs that sent nothing new since the
/// last tick (stopped, paused VMMs answer still) get no point: a gap, not a zero.
/// </summary>
public sealed class HistoryRecorder : BackgroundService
{
    private static readonly TimeSpan FlushInterval = TimeSpan.FromMinutes(1);

    private readonly IVmRuntimeInfo _info;
    private readonly IVmRuntime _runtime;
    private readonly IVmEventLog _events;
    private readonly HistoryStore _store;
    private readonly IHostSampler _host;
    private readonly TimeProvider _clock;
    private readonly ILogger<HistoryRecorder> _logger;
    private readonly ConcurrentDictionary<Guid, VmStatsSample> _latest = new();
    private readonly Dictionary<Guid, VmStatsSample> _recorded = [];
    private readonly Subscribers<HistoryPoint> _subscribers = new();
    private readonly List<IDisposable> _subscriptions = [];
    private PeriodicTimer? _timer;
    private DateTimeOffset _lastFlush;

    public HistoryRecorder(IVmRuntimeInfo info, IVmRuntime runtime, IVmEventLog events, HistoryStore store, IHostSampler host,
        TimeProvider clock, ILogger<HistoryRecorder> logger)
    {
        _info = info;
        _runtime = runtime;
        _events = events;
        _store = store;
        _host = host;
        _clock = clock;
        _logger = logger;
        _lastFlush = clock.GetUtcNow();
    }

    /// <summary>Calls <paramref name="handler"/> with each point as it is recorded, until disposed.</summary>
    public IDisposable Subscribe(Action<HistoryPoint> handler) => _subscribers.Add(handler);

    /// <summary>Records the VMs' and the host's point for <paramref name="now"/>: what each tick does.</summary>
    public void SampleOnce(DateTimeOffset now)
    {
        foreach (var (vmId, latest) in _latest)
        {
            if (_recorded.TryGetValue(vmId, out var previous) && previous.At == latest.At)
            {
                // Nothing new since the last tick: the VM stopped. Forget it; its next run starts afresh.
                _recorded.Remove(vmId);
                _latest.TryRemove(new KeyValuePair<Guid, VmStatsSample>(vmId, latest));
                continue;
            }

            _recorded[vmId] = latest;
            if (previous is not null && VmHistoryValues.From(previous, latest) is { } values)
            {
                Record(vmId, now, values);
            }
        }

        int running = _latest.Keys.Count(id => _runtime.GetState(id) == VmPowerState.Running);
        Record(null, now, _host.Sample(running));
        if (now - _lastFlush >= FlushInterval)
        {
            _lastFlush = now;
            _store.FlushAll();
        }
    }

    /// <summary>Subscribes and starts the clock before returning, so no sample or tick after start-up is missed.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _timer = new PeriodicTimer(HistoryArchives.SampleInterval, _clock);
        _subscriptions.Add(_info.SubscribeStats(sample => _latest[sample.VmId] = sample));
        // A deleted VM's history goes with it (a new VM never has its id).
        _subscriptions.Add(_events.Subscribe(entry =>
        {
            if (entry.Kind == VmEventKinds.Deleted && entry.Result == VmEventResult.Succeeded && entry.VmId is { } id)
            {
                _store.DeleteVm(id);
            }
        }));
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _timer!.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await ReadAllVmsAsync(stoppingToken);
                    SampleOnce(_clock.GetUtcNow());
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // A full or read-only disk costs points, not the dashboard; the next tick tries again.
                    _logger.LogWarning(ex, "Could not record the history");
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The dashboard is stopping.
        }
        finally
        {
            foreach (var subscription in _subscriptions)
            {
                subscription.Dispose();
            }

            _timer!.Dispose();
            _store.FlushAll();
        }
    }

    /// <summary>
    /// Every running VM's counters, read now: the only reading a VM nobody watches gets (issue 22). A reading that
    /// fails costs that tick's points, never the recorder: a background service that throws stops the dashboard.
    /// </summary>
    private async Task ReadAllVmsAsync(CancellationToken stoppingToken)
    {
        try
        {
            await _info.SampleAllAsync(stoppingToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            _logger.LogWarning(ex, "Could not read the VMs' counters for the history");
        }
    }

    private void Record(Guid? vmId, DateTimeOffset now, double[] values)
    {
        if (vmId is { } id)
        {
            _store.RecordVm(id, now, values);
        }
        else
        {
            _store.RecordHost(now, values);
        }

        _subscribers.Publish(new HistoryPoint(vmId, now, values), _logger);
    }
}
