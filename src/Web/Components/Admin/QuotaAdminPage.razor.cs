using Microsoft.AspNetCore.Components;
using MudBlazor;
using Platform.Web.Security;
using Platform.Web.Services.Quotas;

namespace Platform.Web.Components.Admin;

/// <summary>
/// Quotas per user and group for holders of User.Manage: every user and group with its use against its quota, and a
/// form to set or remove one. Each action checks User.Manage again on the server and goes through
/// <see cref="QuotaAdministration"/>, which audits it as the REST API's does.
/// </summary>
public partial class QuotaAdminPage
{
    private IReadOnlyList<QuotaHolder> _holders = [];
    private QuotaHolder? _editing;
    private QuotaForm _form = new();

    [Inject]
    public required QuotaService Quotas { get; set; }

    [Inject]
    public required QuotaAdministration Admin { get; set; }

    [Inject]
    public required CurrentUser Current { get; set; }

    [Inject]
    public required ISnackbar Snackbar { get; set; }

    protected override async Task OnInitializedAsync() => await LoadAsync();

    private async Task LoadAsync() => _holders = await Quotas.OverviewAsync(CancellationToken.None);

    private void Edit(QuotaHolder holder)
    {
        _editing = holder;
        _form = QuotaForm.From(holder.Quota);
    }

    private async Task SaveAsync()
    {
        if (_editing is not { } holder || _form.ToQuota(holder) is not { } quota)
        {
            return; // The form shows what is wrong with each field.
        }

        if (!await Current.CheckAsync(Privileges.UserManage, null, AuditActions.QuotaSet, holder.Name))
        {
            Snackbar.Add("You no longer have User.Manage.", Severity.Error);
            return;
        }

        var result = await Admin.SetAsync(await Current.GetActorAsync(), quota, CancellationToken.None);
        if (!result.Succeeded)
        {
            _form.Refused(result);
            return;
        }

        Snackbar.Add($"The quota of {holder.Name} is set.", Severity.Success);
        _editing = null;
        await LoadAsync();
    }

    private async Task RemoveAsync(QuotaHolder holder)
    {
        if (!await Current.CheckAsync(Privileges.UserManage, null, AuditActions.QuotaRemove, holder.Name))
        {
            Snackbar.Add("You no longer have User.Manage.", Severity.Error);
            return;
        }

        bool removed = await Admin.RemoveAsync(await Current.GetActorAsync(), holder.UserId, holder.GroupId, CancellationToken.None);
        Snackbar.Add(removed ? $"{holder.Name} has no quota now." : $"{holder.Name} had no quota.", removed ? Severity.Success : Severity.Warning);
        if (_editing == holder)
        {
            _editing = null;
        }

        await LoadAsync();
    }
}
