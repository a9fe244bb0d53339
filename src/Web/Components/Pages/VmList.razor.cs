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
    private List<VmListItem>? _machines;

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

    /// <summary>Lists longer than this are virtualized (VmList.razor); a screen shows about 36 rows.</summary>
    internal const int VirtualizeAbove = 50;

    private bool VirtualizeRows => Visible.Count() > VirtualizeAbove;

    private IEnumerable<VmListItem> Visible => (_machines ?? []).Where(vm => Access.CanSee(vm.Id));

    private IEnumerable<VmListItem> Filtered => Visible.Where(vm =>
        Search.Length == 0
        || vm.Name.Contains(Search, StringComparison.OrdinalIgnoreCase)
        || (vm.Description?.Contains(Search, StringComparison.OrdinalIgnoreCase) ?? false));

    protected override async Task OnInitializedAsync()
    {
        // Subscribe before reading, so a change that lands in between is not lost.
        Track(Runtime.Subscribe(change => Refresh(() => _states[change.VmId] = change.State)));
        // Each tick's VM points come before the host's: forget the VMs' cached hours as they come (the rows in view
        // read them again when they render), and re-render once per tick. Rows out of view are not rendered at all
        // (the table is virtualized), so a tick costs a history read per visible VM, not per VM.
        Track(Recorder.Subscribe(point =>
        {
            if (point.VmId is { } id)
            {
                _cpu.TryRemove(id, out _);
            }
            else
            {
                Refresh();
            }
        }));
        _machines = [.. await Vms.ListItemsAsync(CancellationToken.None)];
        foreach (var vm in _machines)
        {
            _states.TryAdd(vm.Id, Runtime.GetState(vm.Id));
        }
    }

    /// <summary>The row's last hour, read when the row renders and kept until the next sample of that VM.</summary>
    private double[] CpuOf(Guid id) => _cpu.GetOrAdd(id, vmId => CpuSparkline.LastHour(History, vmId, Clock.GetUtcNow()));

    private VmPowerState StateOf(Guid id) => _states.GetValueOrDefault(id, VmPowerState.Stopped);

    private void SetState(Guid id, VmPowerState state) => _states[id] = state;
}
