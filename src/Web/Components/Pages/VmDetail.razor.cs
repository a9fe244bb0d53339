using Microsoft.AspNetCore.Components;
using MudBlazor;
using Platform.Web.Components.Vms;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;

namespace Platform.Web.Components.Pages;

/// <summary>
/// One VM: its live state and power actions, Edit and Delete, and the tabs of <see cref="VmDetailTabs"/>
/// (each at <c>/vms/{id}/{tab}</c>, so a tab can be linked to).
/// </summary>
public partial class VmDetail
{
    private VirtualMachine? _vm;
    private VmPowerState _state;
    private bool _missing;
    private bool _deleting;
    private List<BreadcrumbItem> _breadcrumbs = [];

    [Parameter]
    public Guid Id { get; set; }

    [Parameter]
    public string? Tab { get; set; }

    [Inject]
    public required VmService Vms { get; set; }

    [Inject]
    public required IVmRuntime Runtime { get; set; }

    [Inject]
    public required IDialogService Dialogs { get; set; }

    [Inject]
    public required ISnackbar Snackbar { get; set; }

    [Inject]
    public required NavigationManager Navigation { get; set; }

    [Inject]
    public required CurrentUser Current { get; set; }

    /// <summary>A VM the user may not see (VM.Audit) is shown as missing; buttons and tabs follow the privileges.</summary>
    [CascadingParameter]
    public UserAccess Access { get; set; } = UserAccess.None;

    private List<VmDetailTab> VisibleTabs => VmDetailTabs.All.Where(t => Access.Has(t.Privileges, Id)).ToList();

    private int ActiveIndex => Math.Max(0, VisibleTabs.IndexOf(VmDetailTabs.Find(Tab)));

    private Dictionary<string, object?> TabParameters => new()
    {
        [nameof(VmTabBase.Vm)] = _vm,
        [nameof(VmTabBase.State)] = _state,
    };

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
        if (_vm?.Id == Id)
        {
            return; // only the tab changed
        }

        _vm = Access.CanSee(Id) ? await Vms.FindAsync(Id, CancellationToken.None) : null;
        _missing = _vm is null;
        _state = Runtime.GetState(Id);
        _breadcrumbs = [new("Virtual machines", "vms"), new(_vm?.Name ?? "?", null, disabled: true)];
    }

    private void SelectTab(int index)
    {
        string key = VisibleTabs[index].Key;
        if (!key.Equals(VmDetailTabs.Find(Tab).Key, StringComparison.Ordinal))
        {
            Navigation.NavigateTo($"vms/{Id}/{key}", replace: true);
        }
    }

    private async Task DeleteAsync()
    {
        var parameters = new DialogParameters<DeleteVmDialog>
        {
            { d => d.VmName, _vm!.Name },
            { d => d.LibraryDiskCount, _vm.Disks.Count(d => d.ImageId is not null) },
            { d => d.PathDiskCount, _vm.Disks.Count(d => d.ImageId is null && d.FileName is null) },
            { d => d.OwnDiskCount, _vm.Disks.Count(d => d.FileName is not null) },
        };
        var dialog = await Dialogs.ShowAsync<DeleteVmDialog>($"Delete {_vm.Name}", parameters);
        var answer = await dialog.Result;
        if (answer is null || answer.Canceled)
        {
            return;
        }

        var choice = answer.Data as DeleteVmAnswer ?? new DeleteVmAnswer(false, false);
        bool deleteImages = choice.DeleteImages;
        var needed = Privileges.VmAllocate | (deleteImages ? Privileges.ImageManage : Privileges.None);
        if (!await Current.CheckAsync(needed, _vm.Id, AuditActions.VmDelete, _vm.Name))
        {
            Snackbar.Add($"You need {PrivilegePolicies.Describe(needed)} to delete this.", Severity.Error);
            return;
        }

        _deleting = true;
        try
        {
            var result = await Vms.DeleteAsync(_vm.Id, _vm.ConcurrencyStamp, keepDiskImages: !deleteImages, CancellationToken.None, keepOwnDisks: choice.KeepOwnDisks);
            await Current.AuditAsync(AuditActions.VmDelete, result.Succeeded ? AuditResult.Succeeded : AuditResult.Failed, _vm.Id, _vm.Name, result.Message);
            if (result.Succeeded)
            {
                Snackbar.Add(result.Value!.Count > 0
                    ? $"Deleted {_vm.Name} and its disk images {string.Join(", ", result.Value)}."
                    : $"Deleted {_vm.Name}.", Severity.Success);
                Navigation.NavigateTo("vms");
            }
            else
            {
                Snackbar.Add(result.Message!, Severity.Error);
            }
        }
        finally
        {
            _deleting = false;
        }
    }
}
