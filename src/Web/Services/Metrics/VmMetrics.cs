using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Platform.Contracts.Control;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;

namespace Platform.Web.Services.Metrics;

/// <summary>
/// Every running VM's counters as observable instruments labelled with the VM's name and id, read from the
/// supervisor's periodic query-stats samples (the ones the Summary tab and the hub show): no extra VMM round trip per
/// scrape, and a scrape never waits on a VMM. A stopped VM's series go with its last sample.
/// </summary>
internal sealed class VmMetrics : BackgroundService
{
    private static readonly TimeSpan NameRefresh = TimeSpan.FromSeconds(30);

    private readonly IVmRuntimeInfo _info;
    private readonly IVmRuntime _runtime;
    private readonly VmService _vms;
    private readonly ILogger<VmMetrics> _logger;
    private readonly Meter _meter;
    private readonly ConcurrentDictionary<Guid, VmStatsSample> _latest = new();
    private readonly SemaphoreSlim _namesWanted = new(0, 1);
    private volatile Dictionary<Guid, string> _names = [];

    private IDisposable? _stats;
    private IDisposable? _states;

    /// <param name="meters">The app's meter factory: its meters are this app's (see <c>MetricsServiceExtensions</c>), and it disposes them.</param>
    public VmMetrics(IVmRuntimeInfo info, IVmRuntime runtime, VmService vms, IMeterFactory meters, ILogger<VmMetrics> logger)
    {
        _meter = meters.Create(PlatformMeter.Name);
        _info = info;
        _runtime = runtime;
        _vms = vms;
        _logger = logger;

        _meter.CreateObservableCounter("platform.vm.cpu.time", () => Each(s => s.Vcpus.Sum(v => v.CpuTimeMs) / 1000.0), "s",
            "Host CPU time of the VM's vCPU threads since its last boot.");
        _meter.CreateObservableCounter("platform.vm.exits", () => Each(s => s.Vcpus.Sum(v => v.Exits)), "{exit}",
            "vCPU exits to user space since the VM's last boot.");
        _meter.CreateObservableGauge("platform.vm.memory.guest", () => Each(s => (long)s.GuestMemoryBytes), "By", "The VM's guest memory size.");
        _meter.CreateObservableGauge("platform.vm.memory.rss", () => Each(s => s.VmmRssBytes), "By", "Resident memory of the VM's VMM process.");
        _meter.CreateObservableGauge("platform.vm.uptime", () => Each(s => s.UptimeMs / 1000.0), "s", "Time since the VMM started the VM's first boot.");
        _meter.CreateObservableCounter("platform.vm.boots", () => Each(s => (long)s.Boots), "{boot}", "Boots in this VMM (a restart counts).");
        _meter.CreateObservableCounter("platform.vm.disk.read", () => EachDevice(Disk, "read_bytes"), "By", "Bytes the guest read from a disk.");
        _meter.CreateObservableCounter("platform.vm.disk.write", () => EachDevice(Disk, "write_bytes"), "By", "Bytes the guest wrote to a disk.");
        _meter.CreateObservableCounter("platform.vm.disk.read.requests", () => EachDevice(Disk, "read_requests"), "{request}", "Read requests to a disk.");
        _meter.CreateObservableCounter("platform.vm.disk.write.requests", () => EachDevice(Disk, "write_requests"), "{request}", "Write requests to a disk.");
        _meter.CreateObservableCounter("platform.vm.network.receive", () => EachDevice(Nic, "rx_bytes"), "By", "Bytes a NIC delivered to the guest.");
        _meter.CreateObservableCounter("platform.vm.network.transmit", () => EachDevice(Nic, "tx_bytes"), "By", "Bytes the guest sent on a NIC.");
        _meter.CreateObservableCounter("platform.vm.network.receive.packets", () => EachDevice(Nic, "rx_frames"), "{packet}", "Frames a NIC delivered to the guest.");
        _meter.CreateObservableCounter("platform.vm.network.transmit.packets", () => EachDevice(Nic, "tx_frames"), "{packet}", "Frames the guest sent on a NIC.");
    }

    /// <summary>The VMs sampled now that are running (not paused or stopped), for the host's series.</summary>
    public int RunningCount => _latest.Keys.Count(id => _runtime.GetState(id) == VmPowerState.Running);

    /// <summary>
    /// Subscribes before the host goes on: since .NET 10 <see cref="ExecuteAsync"/> runs on the thread pool after
    /// StartAsync returns, so a subscription made there could miss the first samples (and a VM would have no series
    /// until its next one).
    /// </summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _stats = _info.SubscribeStats(Record);
        _states = _runtime.Subscribe(changed =>
        {
            if (changed.State == VmPowerState.Stopped)
            {
                _latest.TryRemove(changed.VmId, out _);
            }
        });
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _stats?.Dispose();
        _states?.Dispose();
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await RefreshNamesAsync(stoppingToken);
                // A new VM's first sample asks for its name at once; renames are picked up within NameRefresh.
                await _namesWanted.WaitAsync(NameRefresh, stoppingToken);
            }
        }
        catch (OperationCanceledException)
        {
            // The dashboard is stopping.
        }
    }

    public override void Dispose()
    {
        _stats?.Dispose();
        _states?.Dispose();
        _namesWanted.Dispose();
        base.Dispose();
    }

    private void Record(VmStatsSample sample)
    {
        _latest[sample.VmId] = sample;
        if (!_names.ContainsKey(sample.VmId) && _namesWanted.CurrentCount == 0)
        {
            try
            {
                _namesWanted.Release();
            }
            catch (SemaphoreFullException)
            {
                // Another sample asked first.
            }
        }
    }

    private async Task RefreshNamesAsync(CancellationToken cancellationToken)
    {
        try
        {
            _names = (await _vms.ListAsync(cancellationToken)).ToDictionary(vm => vm.Id, vm => vm.Name);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The last names stay; the next refresh tries again.
            _logger.LogWarning(ex, "Could not read the VMs' names for the metrics");
        }
    }

    /// <summary>One measurement per VM whose name is known (a series never changes its labels once named).</summary>
    private IEnumerable<Measurement<T>> Each<T>(Func<VmmStats, T> value)
        where T : struct
    {
        var names = _names;
        foreach (var (id, sample) in _latest)
        {
            if (names.TryGetValue(id, out var name))
            {
                yield return new Measurement<T>(value(sample.Stats), Labels(id, name));
            }
        }
    }

    private IEnumerable<Measurement<long>> EachDevice(Func<DeviceStats, bool> kind, string counter)
    {
        var names = _names;
        foreach (var (id, sample) in _latest)
        {
            if (!names.TryGetValue(id, out var name))
            {
                continue;
            }

            foreach (var device in sample.Stats.Devices.Where(kind))
            {
                if (device.Counters.TryGetValue(counter, out long value))
                {
                    yield return new Measurement<long>(value, [.. Labels(id, name), new("device", device.Name)]);
                }
            }
        }
    }

    private static KeyValuePair<string, object?>[] Labels(Guid id, string name) =>
        [new("vm_id", id.ToString()), new("vm_name", name)];

    private static bool Disk(DeviceStats device) => device.Counters.ContainsKey("read_bytes") && device.Counters.ContainsKey("write_bytes");

    private static bool Nic(DeviceStats device) => device.Counters.ContainsKey("rx_frames") && device.Counters.ContainsKey("tx_frames");
}
