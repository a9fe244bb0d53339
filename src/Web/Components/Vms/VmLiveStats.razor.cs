using Microsoft.AspNetCore.Components;
using Platform.Web.Services.Runtime;

namespace Platform.Web.Components.Vms;

/// <summary>
/// A running VM's live figures on its Summary tab: vCPU time, exits per second and VMM memory as short histories,
/// and every device's counters, from the supervisor's periodic samples (the same ones the hub pushes).
/// </summary>
public sealed partial class VmLiveStats
{
    private const int History = 60;

    private readonly List<double> _cpuPercent = [];
    private readonly List<double> _exitsPerSecond = [];
    private readonly List<double> _rssMiB = [];
    private VmStatsSample? _latest;

    [Parameter, EditorRequired]
    public Guid VmId { get; set; }

    [Parameter]
    public VmPowerState State { get; set; }

    [Inject]
    public required IVmRuntimeInfo Runtime { get; set; }

    private bool IsRunning => State is VmPowerState.Running or VmPowerState.Paused;

    protected override void OnInitialized() =>
        Track(Runtime.SubscribeStats(sample =>
        {
            if (sample.VmId == VmId)
            {
                Refresh(() => Add(sample));
            }
        }));

    /// <summary>Turns two consecutive samples into rates; counters restart on a reboot, so a drop starts afresh.</summary>
    internal void Add(VmStatsSample sample)
    {
        if (_latest is { } previous && sample.Stats.Boots == previous.Stats.Boots)
        {
            double seconds = Math.Max((sample.At - previous.At).TotalSeconds, 1e-3);
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
