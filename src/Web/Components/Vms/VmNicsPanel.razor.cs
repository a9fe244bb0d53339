using Microsoft.AspNetCore.Components;
using MudBlazor;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;

namespace Platform.Web.Components.Vms;

/// <summary>
/// A VM's NICs on its Hardware tab. While the VM runs, each NIC's "Cable connected" switch shows the link its VMM
/// reports (each stats sample carries it, so a change from the API or another page shows here too) and changes it through
/// <see cref="VmNicLinkService"/>, the API's path; the privilege is checked again and the action audited, as the API's
/// filter does. The outcome, or the VMM's refusal, is told in a snackbar.
/// </summary>
public sealed partial class VmNicsPanel
{
    private IReadOnlyList<NicLinkState>? _links;
    private bool _busy;

    /// <summary>Counts the changes tried here; each re-creates the switches from the VMM's answer.</summary>
    private int _changes;

    [Parameter, EditorRequired]
    public VirtualMachine Vm { get; set; } = null!;

    [Parameter]
    public VmPowerState State { get; set; }

    [CascadingParameter]
    public UserAccess Access { get; set; } = UserAccess.None;

    [Inject]
    public required VmNicLinkService Links { get; set; }

    [Inject]
    public required IVmRuntimeInfo RuntimeInfo { get; set; }

    [Inject]
    public required CurrentUser Current { get; set; }

    [Inject]
    public required ISnackbar Snackbar { get; set; }

    private bool CanConfigure => Access.Has(Privileges.VmConfig, Vm.Id);

    private bool Live => State is VmPowerState.Running or VmPowerState.Paused;

    protected override void OnInitialized() =>
        Track(RuntimeInfo.SubscribeStats(Vm.Id, sample =>
        {
            Refresh(() => _links = ControlSocketNics.From(sample.Stats));
        }));

    protected override async Task OnParametersSetAsync()
    {
        if (!Live)
        {
            _links = null;
        }
        else if (_links is null && Vm.Nics.Count > 0)
        {
            _links = await Links.GetLiveAsync(Vm.Id, CancellationToken.None);
        }
    }

    /// <summary>The VMM's word on NIC <paramref name="position"/>'s cable; null until it has given one.</summary>
    private bool? LinkOf(int position) => _links?.FirstOrDefault(l => l.Position == position)?.LinkUp;

    private async Task SetLinkAsync(VmNic nic, bool up)
    {
        string what = up ? $"plug in NIC {nic.Position + 1}'s cable" : $"pull out NIC {nic.Position + 1}'s cable";
        if (!await Current.CheckAsync(Privileges.VmConfig, Vm.Id, AuditActions.NicLink, Vm.Name))
        {
            Snackbar.Add($"You need VM.Config to {what}.", Severity.Error);
            return;
        }

        _busy = true;
        try
        {
            var result = await Links.SetLinkAsync(Vm.Id, nic.Position, up, CancellationToken.None);
            await Current.AuditAsync(AuditActions.NicLink, result.Succeeded ? AuditResult.Succeeded : AuditResult.Failed, Vm.Id, Vm.Name,
                result.Succeeded ? $"NIC {nic.Position} {(up ? "up" : "down")}" : result.Message);
            if (result.Succeeded)
            {
                Snackbar.Add(up ? $"Plugged in NIC {nic.Position + 1}'s cable." : $"Pulled out NIC {nic.Position + 1}'s cable.", Severity.Success);
            }
            else
            {
                Snackbar.Add($"Could not {what}: {result.Message}", Severity.Error);
            }

            _links = await Links.GetLiveAsync(Vm.Id, CancellationToken.None);
        }
        finally
        {
            _changes++;
            _busy = false;
        }
    }
}
