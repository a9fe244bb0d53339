using Microsoft.AspNetCore.Components;
using MudBlazor;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services;
using Platform.Web.Services.Disks;
using Platform.Web.Services.Runtime;

namespace Platform.Web.Components.Vms;

/// <summary>The Snapshots tab: <see cref="VmSnapshotService"/> for the page, each action checked again and audited.</summary>
public partial class VmSnapshotsTab
{
    private IReadOnlyList<VmSnapshotInfo>? _snapshots;
    private string? _name;
    private string? _nameError;
    private string? _error;
    private bool _busy;
    private (string Name, bool Revert)? _confirm;

    [CascadingParameter]
    public UserAccess Access { get; set; } = UserAccess.None;

    [Inject]
    public required VmSnapshotService Snapshots { get; set; }

    [Inject]
    public required CurrentUser Current { get; set; }

    [Inject]
    public required ISnackbar Snackbar { get; set; }

    private bool CanSnapshot => Access.Has(Privileges.VmSnapshot, Vm.Id);

    private bool Stopped => State is VmPowerState.Stopped or VmPowerState.Crashed;

    protected override async Task OnParametersSetAsync()
    {
        if (_snapshots is null)
        {
            await LoadAsync();
        }
    }

    private async Task LoadAsync()
    {
        var result = await Snapshots.ListAsync(Vm.Id, CancellationToken.None);
        _snapshots = result.Succeeded ? result.Value : [];
        _error = result.Succeeded ? null : result.Message;
    }

    private async Task TakeAsync()
    {
        if (_busy)
        {
            return;
        }

        _nameError = SnapshotNameRules.Check(_name?.Trim());
        if (_nameError is not null)
        {
            return;
        }

        string name = _name!.Trim();
        await RunAsync(AuditActions.SnapshotCreate, name, async () =>
        {
            var principal = await Current.GetPrincipalAsync();
            return await Snapshots.CreateAsync(Vm.Id, name, principal.Identity?.Name, CancellationToken.None);
        }, $"Took snapshot {name}.");
        _name = null;
    }

    /// <summary>Asks first, on the page itself: revert and delete lose data, so each needs a second click.</summary>
    private void Ask(string name, bool revert)
    {
        if (!_busy)
        {
            _confirm = (name, revert);
        }
    }

    private async Task ConfirmAsync()
    {
        if (_confirm is not { } pending || _busy)
        {
            return;
        }

        var (name, revert) = pending;

        _confirm = null;
        await (revert
            ? RunAsync(AuditActions.SnapshotRevert, name, () => Snapshots.RevertAsync(Vm.Id, name, CancellationToken.None), $"Reverted to {name}.")
            : RunAsync(AuditActions.SnapshotDelete, name, () => Snapshots.DeleteAsync(Vm.Id, name, CancellationToken.None), $"Deleted snapshot {name}."));
    }

    private async Task RunAsync(string action, string name, Func<Task<ServiceResult>> run, string done)
    {
        if (!await Current.CheckAsync(Privileges.VmSnapshot, Vm.Id, action, $"{Vm.Name} snapshot {name}"))
        {
            Snackbar.Add("You need VM.Snapshot for this.", Severity.Error);
            return;
        }

        _busy = true;
        try
        {
            var result = await run();
            string reason = result.Errors.Count > 0 ? string.Join(" ", result.Errors.SelectMany(e => e.Value)) : result.Message ?? "";
            await Current.AuditAsync(action, result.Succeeded ? AuditResult.Succeeded : AuditResult.Failed, Vm.Id, $"{Vm.Name} snapshot {name}",
                result.Succeeded ? null : reason);
            Snackbar.Add(result.Succeeded ? done : reason, result.Succeeded ? Severity.Success : Severity.Error);
            await LoadAsync();
        }
        finally
        {
            _busy = false;
        }
    }
}
