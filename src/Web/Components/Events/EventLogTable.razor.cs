using Microsoft.AspNetCore.Components;
using MudBlazor;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services.Vms;

namespace Platform.Web.Components.Events;

/// <summary>The event log, newest first, paged on the server; new entries appear as they are written.</summary>
public partial class EventLogTable
{
    private MudTable<VmEvent>? _table;
    private UserAccess? _shownFor;

    [Inject]
    public required IVmEventLog Log { get; set; }

    /// <summary>One VM's events; null for every VM's (the table then has a VM column).</summary>
    [Parameter]
    public Guid? VmId { get; set; }

    [Parameter]
    public int PageSize { get; set; } = 25;

    /// <summary>Only events of VMs the user may see (and host events with Sys.Audit).</summary>
    [CascadingParameter]
    public UserAccess Access { get; set; } = UserAccess.None;

    protected override async Task OnParametersSetAsync()
    {
        // A changed grant shows in the table at once.
        if (_table is not null && !ReferenceEquals(_shownFor, Access))
        {
            await _table.ReloadServerData();
        }
    }

    protected override void OnInitialized() =>
        Track(Log.Subscribe(entry =>
        {
            if ((VmId is null || entry.VmId == VmId) && Access.Visibility.CanSee(entry.VmId))
            {
                _ = InvokeAsync(() => _table?.ReloadServerData() ?? Task.CompletedTask);
            }
        }));

    private async Task<TableData<VmEvent>> LoadAsync(TableState state, CancellationToken cancellationToken)
    {
        _shownFor = Access;
        if (VmId is { } vm && !Access.CanSee(vm))
        {
            return new TableData<VmEvent> { Items = [], TotalItems = 0 };
        }

        var page = await Log.ListAsync(VmId, Access.Visibility, state.Page * state.PageSize, state.PageSize, cancellationToken);
        return new TableData<VmEvent> { Items = page.Items, TotalItems = page.Total };
    }
}
