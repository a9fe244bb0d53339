using Microsoft.AspNetCore.Components;
using Platform.Web.Data;
using Platform.Web.Services.Images;
using Platform.Web.Services.Limits;
using Platform.Web.Services.Runtime;

namespace Platform.Web.Components.Vms;

/// <summary>
/// A VM's resource limits on its Summary tab and, while it runs, what its cgroup counted: how often the CPU limit held
/// it back (with "throttled now" when that grew since the last sample), memory-limit hits, OOM kills and tasks. Read at
/// each of the supervisor's stats samples.
/// </summary>
public sealed partial class VmLimitsStatus
{
    private CgroupStats? _stats;
    private bool _throttledNow;

    [Parameter, EditorRequired]
    public required VirtualMachine Vm { get; set; }

    [Parameter]
    public VmPowerState State { get; set; }

    [Inject]
    public required IVmRuntimeInfo Runtime { get; set; }

    [Inject]
    public required VmCgroups Cgroups { get; set; }

    private bool IsRunning => State is VmPowerState.Running or VmPowerState.Paused;

    private string MemoryLimit => $"{ImageLibrary.FormatSize(VmResourceLimits.From(Vm, Cgroups.Options).MemoryBytes)} "
        + $"({Vm.MemoryMiB} MiB of guest RAM and up to {Cgroups.Options.VmmMemoryOverheadMiB} MiB for the VMM)";

    private string CpuLimit => (Vm.CpuLimit is { } cpus ? $"at most {cpus:0.##} CPU{(cpus == 1 ? "" : "s")}" : $"up to its {Vm.VcpuCount} vCPU{(Vm.VcpuCount == 1 ? "" : "s")}")
        + $", weight {Vm.CpuUnits}";

    private string DiskLimits => string.Join("; ", Vm.Disks.OrderBy(d => d.Position)
        .Where(d => d.MaxBytesPerSecond is not null || d.MaxIops is not null)
        .Select(d => $"disk {d.Position + 1}: " + string.Join(", ",
            new[] { d.MaxBytesPerSecond is { } bps ? $"{ImageLibrary.FormatSize(bps)}/s" : null, d.MaxIops is { } iops ? $"{iops:N0} requests/s" : null }.OfType<string>())));

    protected override void OnInitialized()
    {
        Sample();
        Track(Runtime.SubscribeStats(Vm.Id, sample =>
        {
            Refresh(Sample);
        }));
    }

    protected override void OnParametersSet()
    {
        if (!IsRunning)
        {
            _stats = null;
            _throttledNow = false;
        }
    }

    internal void Sample()
    {
        var previous = _stats;
        _stats = IsRunning ? Cgroups.Stats(Vm.Id) : null;
        _throttledNow = _stats is { } now && previous is { } before && now.ThrottledPeriods > before.ThrottledPeriods;
    }
}
