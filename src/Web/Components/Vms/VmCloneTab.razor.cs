using Microsoft.AspNetCore.Components;
using MudBlazor;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;

namespace Platform.Web.Components.Vms;

/// <summary>The Clone tab: <see cref="VmCloneService"/> and <see cref="VmService.SetTemplateAsync"/> for the page, each action checked and audited.</summary>
public partial class VmCloneTab
{
    private IReadOnlyList<CloneJob> _jobs = [];
    private string? _name;
    private string? _nameError;
    private string? _error;
    private bool _busy;
    private CloneMode _mode = CloneMode.Full;
    private readonly HashSet<CloneJob> _followed = [];
    private DateTime _lastRender;

    [CascadingParameter]
    public UserAccess Access { get; set; } = UserAccess.None;

    [Inject]
    public required VmCloneService Clones { get; set; }

    [Inject]
    public required VmService Vms { get; set; }

    [Inject]
    public required CurrentUser Current { get; set; }

    [Inject]
    public required ISnackbar Snackbar { get; set; }

    [Inject]
    public required NavigationManager Navigation { get; set; }

    private bool CanConfig => Access.Has(Privileges.VmConfig, Vm.Id);

    private bool CanAllocate => Access.Has(Privileges.VmAllocate, Vm.Id);

    private bool Stopped => State is VmPowerState.Stopped or VmPowerState.Crashed;

    private CloneJob? Running => _jobs.FirstOrDefault(j => j.State == CloneJobState.Running);

    protected override void OnParametersSet()
    {
        _jobs = Clones.JobsOf(Vm.Id);
        foreach (var job in _jobs.Where(j => j.State == CloneJobState.Running))
        {
            Follow(job);
        }

        _name ??= $"{Vm.Name}-clone";
        if (!Vm.IsTemplate)
        {
            _mode = CloneMode.Full;
        }
    }

    private void Follow(CloneJob job)
    {
        if (_followed.Add(job))
        {
            job.Follow(OnJobChanged);
        }
    }

    /// <summary>On the copying thread: re-renders at most every 200 ms while bytes go through, and always at the end.</summary>
    private void OnJobChanged(CloneJob job)
    {
        if (job.State == CloneJobState.Running && DateTime.UtcNow - _lastRender < TimeSpan.FromMilliseconds(200))
        {
            return;
        }

        _lastRender = DateTime.UtcNow;
        _ = InvokeAsync(() =>
        {
            _jobs = Clones.JobsOf(Vm.Id);
            StateHasChanged();
        });
    }

    private async Task StartAsync()
    {
        if (_busy)
        {
            return;
        }

        _nameError = VmNameRules.Check(_name?.Trim());
        if (_nameError is not null)
        {
            return;
        }

        if (!await Current.CheckAsync(Privileges.VmAllocate, Vm.Id, AuditActions.VmClone, Vm.Name))
        {
            Snackbar.Add("You need VM.Allocate for this.", Severity.Error);
            return;
        }

        _busy = true;
        try
        {
            var principal = await Current.GetPrincipalAsync();
            var result = await Clones.StartAsync(Vm.Id, _name!.Trim(), _mode, principal.Identity?.Name, CancellationToken.None, Follow,
                ownerId: principal.UserId());
            string reason = result.Errors.Count > 0 ? string.Join(" ", result.Errors.SelectMany(e => e.Value)) : result.Message ?? "";
            _error = result.Succeeded ? null : reason;
            await Current.AuditAsync(AuditActions.VmClone, result.Succeeded ? AuditResult.Succeeded : AuditResult.Failed, Vm.Id, $"{Vm.Name} as {_name}",
                result.Succeeded ? null : reason);
            _jobs = Clones.JobsOf(Vm.Id);
        }
        finally
        {
            _busy = false;
        }
    }

    private async Task CancelAsync(CloneJob job)
    {
        if (!await Current.CheckAsync(Privileges.VmAllocate, Vm.Id, AuditActions.CloneCancel, job.Name))
        {
            Snackbar.Add("You need VM.Allocate for this.", Severity.Error);
            return;
        }

        var result = Clones.Cancel(Vm.Id, job.Id);
        await Current.AuditAsync(AuditActions.CloneCancel, result.Succeeded ? AuditResult.Succeeded : AuditResult.Failed, Vm.Id, job.Name, result.Message);
        if (!result.Succeeded)
        {
            Snackbar.Add(result.Message ?? "", Severity.Warning);
        }
    }

    private async Task ToggleTemplateAsync()
    {
        if (_busy)
        {
            return;
        }

        if (!await Current.CheckAsync(Privileges.VmConfig, Vm.Id, AuditActions.TemplateSet, Vm.Name))
        {
            Snackbar.Add("You need VM.Config for this.", Severity.Error);
            return;
        }

        _busy = true;
        try
        {
            var result = await Vms.SetTemplateAsync(Vm.Id, !Vm.IsTemplate, CancellationToken.None);
            await Current.AuditAsync(AuditActions.TemplateSet, result.Succeeded ? AuditResult.Succeeded : AuditResult.Failed, Vm.Id, Vm.Name, result.Message);
            if (result.Succeeded)
            {
                // The page keeps the VM it loaded: a reload shows the new flag everywhere (the tabs, the power buttons).
                Navigation.NavigateTo(Navigation.Uri, forceLoad: true);
                Snackbar.Add(result.Value!.IsTemplate ? $"{Vm.Name} is a template now." : $"{Vm.Name} is an ordinary VM again.", Severity.Success);
            }
            else
            {
                _error = result.Message;
            }
        }
        finally
        {
            _busy = false;
        }
    }

    public void Dispose()
    {
        foreach (var job in _followed)
        {
            job.Unfollow(OnJobChanged);
        }

        GC.SuppressFinalize(this);
    }
}
