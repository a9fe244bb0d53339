using Microsoft.AspNetCore.Components;
using MudBlazor;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;

namespace Platform.Web.Components.Vms;

/// <summary>
/// The boot order of a VM that boots with firmware, saved through <see cref="VmService.UpdateAsync"/> (the API's and the
/// wizard's path, its rules and its concurrency stamp) as vm.json's <c>boot_order</c> for the next start.
/// </summary>
public sealed partial class VmBootOrderEditor
{
    private VirtualMachine _vm = null!;
    private string _key = "";
    private bool _busy;

    [Parameter, EditorRequired]
    public VirtualMachine Vm { get; set; } = null!;

    [Parameter]
    public VmPowerState State { get; set; }

    [CascadingParameter]
    public UserAccess Access { get; set; } = UserAccess.None;

    [Inject]
    public required VmService Vms { get; set; }

    [Inject]
    public required CurrentUser Current { get; set; }

    [Inject]
    public required ISnackbar Snackbar { get; set; }

    private bool CanConfigure => Access.Has(Privileges.VmConfig, _vm.Id);

    private IReadOnlyList<IReadOnlyList<BootDevice>> Choices => BootOrders.For(_vm.Disks.Count > 0, _vm.HasCdrom);

    /// <summary>The saved order's key, the default spelled out as far as the VM has the devices.</summary>
    private string CurrentKey => BootOrders.Key(_vm.BootOrder ?? BootOrders.Without(BootOrders.Default, _vm.Disks.Count > 0, _vm.HasCdrom) ?? []);

    protected override void OnParametersSet()
    {
        if (_vm is null || _vm.Id != Vm.Id || _vm.ConcurrencyStamp != Vm.ConcurrencyStamp)
        {
            _vm = Vm;
            _key = CurrentKey;
        }
    }

    private async Task SaveAsync()
    {
        if (!await Current.CheckAsync(Privileges.VmConfig, _vm.Id, AuditActions.VmUpdate, _vm.Name))
        {
            Snackbar.Add("You need VM.Config to change the boot order.", Severity.Error);
            return;
        }

        _busy = true;
        try
        {
            // Read again: the drive may have been added or removed on this tab since the page loaded.
            var vm = await Vms.FindAsync(_vm.Id, CancellationToken.None) ?? _vm;
            var input = VmDefinitionInput.From(vm);
            input.BootOrder = BootOrders.Parse(_key);
            var result = await Vms.UpdateAsync(vm.Id, input, vm.ConcurrencyStamp, CancellationToken.None);
            await Current.AuditAsync(AuditActions.VmUpdate, result.Succeeded ? AuditResult.Succeeded : AuditResult.Failed, vm.Id, vm.Name,
                result.Succeeded ? "boot order" : Reason(result));
            if (result.Succeeded)
            {
                _vm = result.Value!;
                _key = CurrentKey;
                Snackbar.Add($"Boot order: {BootOrders.Describe(_vm.BootOrder)}.", Severity.Success);
            }
            else
            {
                Snackbar.Add(Reason(result), Severity.Error);
            }
        }
        finally
        {
            _busy = false;
        }
    }

    private static string Reason(ServiceResult result) =>
        result.Errors.Count > 0 ? string.Join(" ", result.Errors.SelectMany(e => e.Value)) : result.Message ?? "It did not work.";
}
