using Microsoft.AspNetCore.Components;
using Platform.Web.Services.Runtime;

namespace Platform.Web.Components.Vms;

/// <summary>
/// A running VM's live figures on its Summary tab: vCPU time, exits per second and VMM memory as short histories,
/// each disk's and NIC's bytes per second and any trouble in words, and every device's raw counters under "Details", from the supervisor's periodic samples (the same ones the hub pushes).
/// </summary>
public sealed partial class VmLiveStats
{
    private const int History = 60;

    private readonly List<double> _cpuPercent = [];
    private readonly List<double> _exitsPerSecond = [];
    private readonly List<double> _rssMiB = [];
    private VmStatsSample? _latest;
    private List<DeviceActivity> _activity = [];
    private bool _detailsOpen;

    [Parameter, EditorRequired]
    public Guid VmId { get; set; }

    [Parameter]
    public VmPowerState State { get; set; }

    [Inject]
    public required IVmRuntimeInfo Runtime { get; set; }

    private bool IsRunning => State is VmPowerState.Running or VmPowerState.Paused;

    protected override void OnInitialized() =>
        Track(Runtime.SubscribeStats(VmId, sample =>
        {
            Refresh(() => Add(sample));
        }));

    /// <summary>Turns two consecutive samples into rates; counters restart on a reboot, so a drop starts afresh.</summary>
    internal void Add(VmStatsSample sample)
    {
        double seconds = _latest is { } last ? Math.Max((sample.At - last.At).TotalSeconds, 1e-3) : 1;
        _activity = DeviceActivity.Between(_latest?.Stats, sample.Stats, seconds);
        if (_latest is { } previous && sample.Stats.Boots == previous.Stats.Boots)
        {
            long cpu = sample.Stats.Vcpus.Sum(v => v.CpuTimeMs) - previous.Stats.Vcpus.Sum(v => v.CpuTimeMs);
            long exits = sample.Stats.Vcpus.Sum(v => v.Exits) - previous.Stats.Vcpus.Sum(v => v.Exits);
            Push(_cpuPercent, Math.Max(0, cpu / 10.0 / seconds));
            Push(_exitsPerSecond, Math.Max(0, exits / seconds));
        }

        Push(_rssMiB, sample.Stats.VmmRssBytes / 1048576.0);
        _latest = sample;
    }

    private static void Push(List<double> history, double value)
    {
        history.Add(value);
        if (history.Count > History)
        {
            history.RemoveAt(0);
        }
    }
}
