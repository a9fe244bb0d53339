using Microsoft.AspNetCore.Components;
using MudBlazor;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;

namespace Platform.Web.Components.Vms;

/// <summary>
/// The VM's CPU, task and disk I/O limits on its Hardware tab, editable by users with VM.Config: saved through
/// <see cref="VmService.UpdateAsync"/> (the API's and the wizard's path, its rules and its concurrency stamp), which
/// rewrites a running VM's cgroup and sends changed disk limits to its VMM at once; the tab then says what applied now
/// and what waits for the next start.
/// </summary>
public sealed partial class VmLimitsEditor
{
    private VirtualMachine _vm = null!;
    private VmDefinitionInput _input = new();
    private IReadOnlyDictionary<string, string[]> _errors = new Dictionary<string, string[]>();
    private bool _busy;

    /// <summary>What the last save applied now and what waits for the next start, as the service said it.</summary>
    private string? _applied;

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

    protected override void OnParametersSet()
    {
        if (_vm is null || _vm.Id != Vm.Id || _vm.ConcurrencyStamp != Vm.ConcurrencyStamp)
        {
            Show(Vm);
        }
    }

    private void Show(VirtualMachine vm)
    {
        _vm = vm;
        _input = VmDefinitionInput.From(vm);
        _errors = new Dictionary<string, string[]>();
    }

    private string? ErrorOf(string key) => _errors.TryGetValue(key, out var list) ? string.Join(" ", list) : null;

    private async Task SaveAsync()
    {
        if (!await Current.CheckAsync(Privileges.VmConfig, _vm.Id, AuditActions.VmUpdate, _vm.Name))
        {
            Snackbar.Add("You need VM.Config to change this VM's limits.", Severity.Error);
            return;
        }

        _busy = true;
        try
        {
            var result = await Vms.UpdateAsync(_vm.Id, _input, _vm.ConcurrencyStamp, CancellationToken.None);
            await Current.AuditAsync(AuditActions.VmUpdate, result.Succeeded ? AuditResult.Succeeded : AuditResult.Failed, _vm.Id, _vm.Name,
                result.Succeeded ? "limits" : Reason(result));
            if (result.Succeeded)
            {
                Show(result.Value!);
                bool running = State is VmPowerState.Running or VmPowerState.Paused;
                _applied = result.Message ?? (running ? "Limits saved; they apply now." : "Limits saved; they apply at its next start.");
                Snackbar.Add($"Limits saved. {result.Message}".Trim(), Severity.Success);
            }
            else
            {
                _errors = result.Errors;
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
