using Microsoft.AspNetCore.Components;
using MudBlazor;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;
using Platform.Web.Services;

namespace Platform.Web.Components.Vms;

/// <summary>
/// The power actions that make sense in the VM's state, as buttons. While one runs they are disabled and a spinner
/// shows; the outcome (and the reason of a failure) comes as a snackbar. The state itself arrives through the
/// runtime's subscription in the parent page.
/// </summary>
public partial class VmPowerButtons
{
    private VmPowerAction? _busy;

    [Inject]
    public required VmPowerService Power { get; set; }

    [Inject]
    public required ISnackbar Snackbar { get; set; }

    [Inject]
    public required CurrentUser Current { get; set; }

    [Parameter, EditorRequired]
    public Guid VmId { get; set; }

    [Parameter, EditorRequired]
    public string VmName { get; set; } = "";

    [Parameter]
    public VmPowerState State { get; set; }

    /// <summary>Icon buttons (for table rows) instead of labelled ones.</summary>
    [Parameter]
    public bool Compact { get; set; }

    /// <summary>Called with the state the runtime reported after a successful action.</summary>
    [Parameter]
    public EventCallback<VmPowerState> StateChanged { get; set; }

    /// <summary>What a user can ask for in each state; Stop is always there for a VM that is not stopped or crashed.</summary>
    public static IReadOnlyList<VmPowerAction> ActionsFor(VmPowerState state) => state switch
    {
        VmPowerState.Stopped or VmPowerState.Crashed => [VmPowerAction.Start],
        VmPowerState.Running => [VmPowerAction.Shutdown, VmPowerAction.Stop, VmPowerAction.Pause, VmPowerAction.Reset],
        VmPowerState.Paused => [VmPowerAction.Resume, VmPowerAction.Stop],
        // Waiting to be restarted after a crash: start it now, or Stop to cancel the restart.
        VmPowerState.Restarting => [VmPowerAction.Start, VmPowerAction.Stop],
        _ => [VmPowerAction.Stop],
    };

    private IReadOnlyList<VmPowerAction> Available => ActionsFor(State);

    private async Task RunAsync(VmPowerAction action)
    {
        // The button only shows with VM.PowerMgmt, but the circuit may be older than a revocation: ask again.
        string auditAction = AuditActions.Power(action.ToString());
        if (!await Current.CheckAsync(Privileges.VmPowerMgmt, VmId, auditAction, VmName))
        {
            Snackbar.Add($"{VmPowerService.Verb(action)} {VmName}: you no longer have VM.PowerMgmt on it.", Severity.Error);
            return;
        }

        _busy = action;
        try
        {
            var result = await Power.RunAsync(VmId, action, null, CancellationToken.None);
            await Current.AuditAsync(auditAction, result.Succeeded ? AuditResult.Succeeded : AuditResult.Failed, VmId, VmName, result.Message);
            if (result.Succeeded)
            {
                Snackbar.Add($"{VmPowerService.Verb(action)} {VmName}: done.", Severity.Success);
                await StateChanged.InvokeAsync(result.Value);
            }
            else
            {
                Snackbar.Add($"{VmPowerService.Verb(action)} {VmName} failed: {result.Message}",
                    result.Status == ServiceStatus.Unavailable ? Severity.Warning : Severity.Error);
            }
        }
        finally
        {
            _busy = null;
        }
    }

    private static string IconOf(VmPowerAction action) => action switch
    {
        VmPowerAction.Start => Icons.Material.Filled.PlayArrow,
        VmPowerAction.Shutdown => Icons.Material.Filled.PowerSettingsNew,
        VmPowerAction.Stop => Icons.Material.Filled.Stop,
        VmPowerAction.Pause => Icons.Material.Filled.Pause,
        VmPowerAction.Resume => Icons.Material.Filled.PlayArrow,
        _ => Icons.Material.Filled.RestartAlt,
    };

    private static Color ColorOf(VmPowerAction action) => action switch
    {
        VmPowerAction.Start or VmPowerAction.Resume => Color.Success,
        VmPowerAction.Stop => Color.Error,
        _ => Color.Default,
    };
}
