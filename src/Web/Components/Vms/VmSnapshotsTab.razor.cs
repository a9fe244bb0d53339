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

    [CascadingParameter]
    public UserAccess Access { get; set; } = UserAccess.None;

    [Inject]
    public required VmSnapshotService Snapshots { get; set; }

    [Inject]
    public required CurrentUser Current { get; set; }

    [Inject]
    public required ISnackbar Snackbar { get; set; }

    [Inject]
    public required IDialogService Dialogs { get; set; }

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

    private async Task RevertAsync(string name)
    {
        bool? sure = await Dialogs.ShowMessageBoxAsync($"Revert {Vm.Name} to {name}?",
            $"Every disk of the snapshot goes back to how it was when {name} was taken; what was written since is lost.", yesText: "Revert", cancelText: "Cancel");
        if (sure == true)
        {
            await RunAsync(AuditActions.SnapshotRevert, name, () => Snapshots.RevertAsync(Vm.Id, name, CancellationToken.None), $"Reverted to {name}.");
        }
    }

    private async Task DeleteAsync(string name)
    {
        bool? sure = await Dialogs.ShowMessageBoxAsync($"Delete snapshot {name}?", "The disks stay as they are now; the snapshot's own data is freed.",
            yesText: "Delete", cancelText: "Cancel");
        if (sure == true)
        {
            await RunAsync(AuditActions.SnapshotDelete, name, () => Snapshots.DeleteAsync(Vm.Id, name, CancellationToken.None), $"Deleted snapshot {name}.");
        }
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
