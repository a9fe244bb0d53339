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
public partial class VmPowerButtons : IDisposable
{
    /// <summary>The actions under way: one at a time, except that Stop may cut a Shutdown's wait short.</summary>
    private readonly HashSet<VmPowerAction> _running = [];
    private DateTimeOffset? _shutdownDeadline;
    private Timer? _countdown;

    [Inject]
    public required IDialogService Dialogs { get; set; }

    [Inject]
    public required PowerConfirmations Confirmations { get; set; }

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
        // Its host is out of reach: nothing would get there; the buttons come back with the host.
        VmPowerState.HostUnreachable => [],
        _ => [VmPowerAction.Stop],
    };

    private IReadOnlyList<VmPowerAction> Available => ActionsFor(State);

    private bool CanPress(VmPowerAction action) =>
        _running.Count == 0 || (action == VmPowerAction.Stop && _running.SetEquals([VmPowerAction.Shutdown]));

    private static int SecondsLeft(DateTimeOffset deadline) => Math.Max(0, (int)Math.Ceiling((deadline - DateTimeOffset.UtcNow).TotalSeconds));

    /// <summary>Stop and Reset lose the guest's unwritten work: they ask first, unless the user said not to this session.</summary>
    private async Task<bool> ConfirmAsync(VmPowerAction action)
    {
        if (!Confirmations.ShouldAsk(action))
        {
            return true;
        }

        string verb = VmPowerService.Verb(action);
        var parameters = new DialogParameters<ConfirmPowerDialog>
        {
            { d => d.Verb, verb },
            {
                d => d.Question, action == VmPowerAction.Stop
                    ? $"Stop {VmName} now? Like pulling the plug: what the guest has not saved is lost. Shut down asks the guest instead."
                    : $"Reset {VmName} now? It reboots at once: what the guest has not saved is lost."
            },
        };
        var dialog = await Dialogs.ShowAsync<ConfirmPowerDialog>($"{verb} {VmName}", parameters);
        var answer = await dialog.Result;
        if (answer is null || answer.Canceled)
        {
            return false;
        }

        if (answer.Data is true)
        {
            Confirmations.StopAsking(action);
        }

        return true;
    }

    private async Task RunAsync(VmPowerAction action)
    {
        if (!await ConfirmAsync(action))
        {
            return;
        }

        // The button only shows with VM.PowerMgmt, but the circuit may be older than a revocation: ask again.
        string auditAction = AuditActions.Power(action.ToString());
        if (!await Current.CheckAsync(Privileges.VmPowerMgmt, VmId, auditAction, VmName))
        {
            Snackbar.Add($"{VmPowerService.Verb(action)} {VmName}: you no longer have VM.PowerMgmt on it.", Severity.Error);
            return;
        }

        _running.Add(action);
        if (action == VmPowerAction.Shutdown)
        {
            _shutdownDeadline = DateTimeOffset.UtcNow + VmPowerService.DefaultShutdownTimeout;
            _countdown ??= new Timer(_ => InvokeAsync(StateHasChanged), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        }

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
            _running.Remove(action);
            if (action == VmPowerAction.Shutdown)
            {
                _shutdownDeadline = null;
                _countdown?.Dispose();
                _countdown = null;
            }
        }
    }

    public void Dispose()
    {
        _countdown?.Dispose();
        GC.SuppressFinalize(this);
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
