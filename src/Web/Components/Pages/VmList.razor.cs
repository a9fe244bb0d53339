using System.Collections.Concurrent;
using Microsoft.AspNetCore.Components;
using Platform.Web.Data;
using Platform.Web.Components.History;
using Platform.Web.Security;
using Platform.Web.Services.History;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;

namespace Platform.Web.Components.Pages;

/// <summary>
/// Every VM with its live power state (from <see cref="IVmRuntime"/>, kept current through its subscription),
/// resources, quick power actions and a search over name and description.
/// </summary>
public partial class VmList
{
    private readonly ConcurrentDictionary<Guid, VmPowerState> _states = new();
    private readonly ConcurrentDictionary<Guid, double[]> _cpu = new();
    private List<VirtualMachine>? _machines;

    [Inject]
    public required VmService Vms { get; set; }

    [Inject]
    public required IVmRuntime Runtime { get; set; }

    [Inject]
    public required HistoryStore History { get; set; }

    [Inject]
    public required HistoryRecorder Recorder { get; set; }

    [Inject]
    public required TimeProvider Clock { get; set; }

    /// <summary>Only the VMs the user may see (VM.Audit) are listed; the value changes as grants do.</summary>
    [CascadingParameter]
    public UserAccess Access { get; set; } = UserAccess.None;

    private string Search { get; set; } = "";

    private IEnumerable<VirtualMachine> Visible => (_machines ?? []).Where(vm => Access.CanSee(vm.Id));

    private IEnumerable<VirtualMachine> Filtered => Visible.Where(vm =>
        Search.Length == 0
        || vm.Name.Contains(Search, StringComparison.OrdinalIgnoreCase)
        || (vm.Description?.Contains(Search, StringComparison.OrdinalIgnoreCase) ?? false));

    protected override async Task OnInitializedAsync()
    {
        // Subscribe before reading, so a change that lands in between is not lost.
        Track(Runtime.Subscribe(change => Refresh(() => _states[change.VmId] = change.State)));
        // Each tick's VM points come before the host's: read the VMs' new hour as they come, re-render once per tick.
        Track(Recorder.Subscribe(point =>
        {
            if (point.VmId is { } id && _cpu.ContainsKey(id))
            {
                _cpu[id] = CpuSparkline.LastHour(History, id, Clock.GetUtcNow());
            }
            else if (point.VmId is null)
            {
                Refresh();
            }
        }));
        _machines = [.. await Vms.ListAsync(CancellationToken.None)];
        foreach (var vm in _machines)
        {
            _states.TryAdd(vm.Id, Runtime.GetState(vm.Id));
            if (Access.CanSee(vm.Id))
            {
                _cpu[vm.Id] = CpuSparkline.LastHour(History, vm.Id, Clock.GetUtcNow());
            }
        }
    }

    private double[] CpuOf(Guid id) => _cpu.GetValueOrDefault(id) ?? [];

    private VmPowerState StateOf(Guid id) => _states.GetValueOrDefault(id, VmPowerState.Stopped);

    private void SetState(Guid id, VmPowerState state) => _states[id] = state;
}
