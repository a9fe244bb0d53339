using Microsoft.AspNetCore.Components;
using Platform.Web.Data;
using Platform.Web.Security;
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

    /// <summary>A VM the user may not see is "no such VM"; without VM.Console the screen is refused.</summary>
    [CascadingParameter]
    public UserAccess Access { get; set; } = UserAccess.None;

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
        _vm = Access.CanSee(Id) ? await Vms.FindAsync(Id, CancellationToken.None) : null;
        _state = Runtime.GetState(Id);
        _loaded = true;
    }
}
