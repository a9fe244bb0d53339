using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Platform.Web.Data;
using Platform.Web.Services.History;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;
using Platform.Web.Tests.Fakes;

namespace Platform.Web.Tests.Services.History;

/// <summary>The recorder on a fake clock: a point per VM and one for the host every 10 s, rates from the supervisor's samples.</summary>
public sealed class HistoryRecorderTests : IAsyncDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly FakeTimeProvider _clock = new(T0);
    private readonly TestDatabase _db = new();
    private readonly FakeVmRuntimeInfo _stats = new();
    private readonly HistoryStore _store;
    private readonly HistoryRecorder _recorder;
    private readonly Channel<HistoryPoint> _points = Channel.CreateUnbounded<HistoryPoint>();
    private readonly IDisposable _subscription;

    public HistoryRecorderTests()
    {
        _store = new HistoryStore(Path.Combine(_db.DataDirectory, "history"));
        _recorder = new HistoryRecorder(_stats, _db.Runtime, _db.Events, _store, new FixedHostSampler(), _clock, NullLogger<HistoryRecorder>.Instance);
        _subscription = _recorder.Subscribe(point => _points.Writer.TryWrite(point));
    }

    public async ValueTask DisposeAsync()
    {
        await _recorder.StopAsync(CancellationToken.None);
        _recorder.Dispose();
        _subscription.Dispose();
        _store.Dispose();
        _db.Dispose();
    }

    [Fact]
    public async Task Each_tick_records_a_running_vm_s_rates_over_the_last_10_s_and_a_stopped_vm_leaves_a_gap()
    {
        var vm = Guid.NewGuid();
        _db.Runtime.SetState(vm, VmPowerState.Running);
        await _recorder.StartAsync(Ct);

        _stats.Publish(Sample(vm, T0.AddSeconds(1), cpuMs: 1_000, exits: 100, readBytes: 0, rxFrames: 0));
        (await TickAsync()).Should().BeEmpty("one sample gives no rate yet");

        _stats.Publish(Sample(vm, T0.AddSeconds(11), cpuMs: 6_000, exits: 2_100, readBytes: 40_960, rxFrames: 50));
        var second = await TickAsync();
        var point = second.Should().ContainSingle().Subject;
        point.At.Should().Be(T0.AddSeconds(20));
        double Value(string name) => point.Values[HistorySeriesSets.IndexOf(HistorySeriesSets.Vm, name)];
        Value("cpu").Should().Be(50, "5 s of vCPU time in 10 s");
        Value("exits").Should().Be(200);
        Value("disk_read_bytes").Should().Be(4_096);
        Value("disk_read_ops").Should().Be(1);
        Value("net_rx_packets").Should().Be(5);
        Value("memory_used").Should().Be(30_000_000);
        Value("memory_total").Should().Be(64 << 20);

        (await TickAsync()).Should().BeEmpty("no new sample came: the VM stopped");
        var hour = _store.ReadVm(vm, HistoryRange.Hour, _clock.GetUtcNow());
        hour.Of("cpu")[^2].Should().Be(50);
        hour.Of("cpu")[^1].Should().BeNull("a stopped VM is a gap, not a zero");

        var host = _store.ReadHost(HistoryRange.Hour, _clock.GetUtcNow());
        host.Of("cpu")[^3..].Should().Equal(12.5, 12.5, 12.5);
        host.Of("vms_running")[^3..].Should().Equal(1, 1, 0);
    }

    [Fact]
    public async Task A_reboot_between_samples_gives_no_rate_instead_of_a_negative_one()
    {
        var vm = Guid.NewGuid();
        await _recorder.StartAsync(Ct);
        _stats.Publish(Sample(vm, T0.AddSeconds(1), cpuMs: 9_000, exits: 9_000, readBytes: 0, rxFrames: 0));
        await TickAsync();
        _stats.Publish(Sample(vm, T0.AddSeconds(11), cpuMs: 10, exits: 10, readBytes: 0, rxFrames: 0, boots: 2));
        (await TickAsync()).Should().BeEmpty();
        _stats.Publish(Sample(vm, T0.AddSeconds(21), cpuMs: 1_010, exits: 10, readBytes: 0, rxFrames: 0, boots: 2));
        (await TickAsync()).Should().ContainSingle().Which.Values[0].Should().Be(10);
    }

    [Fact]
    public async Task A_deleted_vm_s_history_file_is_deleted()
    {
        var vm = Guid.NewGuid();
        await _recorder.StartAsync(Ct);
        _stats.Publish(Sample(vm, T0.AddSeconds(1), cpuMs: 0, exits: 0, readBytes: 0, rxFrames: 0));
        await TickAsync();
        _stats.Publish(Sample(vm, T0.AddSeconds(11), cpuMs: 100, exits: 0, readBytes: 0, rxFrames: 0));
        await TickAsync();
        string file = Path.Combine(_store.Folder, "vms", $"{vm}.rrd");
        File.Exists(file).Should().BeTrue();

        await _db.Events.AddAsync(new VmEvent { VmId = vm, VmName = "gone", Kind = VmEventKinds.Deleted, Result = VmEventResult.Succeeded, Message = "Deleted gone." }, Ct);
        File.Exists(file).Should().BeFalse();
        _store.ReadVm(vm, HistoryRange.Hour, _clock.GetUtcNow()).Of("cpu").Should().OnlyContain(v => v == null);
    }

    /// <summary>Moves the clock one interval and returns the VM points of that tick (the host's comes last).</summary>
    private async Task<List<HistoryPoint>> TickAsync()
    {
        _clock.Advance(HistoryArchives.SampleInterval);
        var vmPoints = new List<HistoryPoint>();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        while (await _points.Reader.ReadAsync(timeout.Token) is { } point)
        {
            if (point.VmId is null)
            {
                point.At.Should().Be(_clock.GetUtcNow());
                return vmPoints;
            }

            vmPoints.Add(point);
        }

        return vmPoints;
    }

    private static VmStatsSample Sample(Guid vm, DateTimeOffset at, long cpuMs, long exits, long readBytes, long rxFrames, int boots = 1) =>
        new(vm, new VmmStats(boots, 1_000, 64 << 20, 30_000_000, [new VcpuStats(0, exits, cpuMs)],
        [
            new DeviceStats("disk0", "virtio-blk", new Dictionary<string, long>
            {
                ["read_bytes"] = readBytes, ["write_bytes"] = 0, ["read_requests"] = readBytes / 4096, ["write_requests"] = 0,
            }),
            new DeviceStats("net0", "virtio-net", new Dictionary<string, long>
            {
                ["rx_frames"] = rxFrames, ["tx_frames"] = 0, ["rx_bytes"] = rxFrames * 100, ["tx_bytes"] = 0,
            }),
            new DeviceStats("com1", "uart-16550a", new Dictionary<string, long> { ["tx_bytes"] = 999_999, ["rx_bytes"] = 0 }),
        ]), at);
}
