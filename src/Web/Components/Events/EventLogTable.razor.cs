using Microsoft.AspNetCore.Components;
using MudBlazor;
using Platform.Web.Data;
using Platform.Web.Services.Vms;

namespace Platform.Web.Components.Events;

/// <summary>The event log, newest first, paged on the server; new entries appear as they are written.</summary>
public partial class EventLogTable
{
    private MudTable<VmEvent>? _table;

    [Inject]
    public required IVmEventLog Log { get; set; }

    /// <summary>One VM's events; null for every VM's (the table then has a VM column).</summary>
    [Parameter]
    public Guid? VmId { get; set; }

    [Parameter]
    public int PageSize { get; set; } = 25;

    protected override void OnInitialized() =>
        Track(Log.Subscribe(entry =>
        {
            if (VmId is null || entry.VmId == VmId)
            {
                _ = InvokeAsync(() => _table?.ReloadServerData() ?? Task.CompletedTask);
            }
        }));

    private async Task<TableData<VmEvent>> LoadAsync(TableState state, CancellationToken cancellationToken)
    {
        var page = await Log.ListAsync(VmId, state.Page * state.PageSize, state.PageSize, cancellationToken);
        return new TableData<VmEvent> { Items = page.Items, TotalItems = page.Total };
    }
}
