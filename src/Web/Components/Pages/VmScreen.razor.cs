using Microsoft.AspNetCore.Components;
using Platform.Web.Data;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;

namespace Platform.Web.Components.Pages;

/// <summary>A VM's graphical console alone, for its own browser window or tab.</summary>
public sealed partial class VmScreen
{
    private VirtualMachine? _vm;
    private VmPowerState _state;
    private bool _loaded;

    [Parameter]
    public Guid Id { get; set; }

    [Inject]
    public required VmService Vms { get; set; }

    [Inject]
    public required IVmRuntime Runtime { get; set; }

    protected override void OnInitialized() =>
        Track(Runtime.Subscribe(change =>
        {
            if (change.VmId == Id)
            {
                Refresh(() => _state = change.State);
            }
        }));

    protected override async Task OnParametersSetAsync()
    {
        _vm = await Vms.FindAsync(Id, CancellationToken.None);
        _state = Runtime.GetState(Id);
        _loaded = true;
    }
}
