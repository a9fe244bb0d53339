using Microsoft.AspNetCore.Components;
using MudBlazor;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services;
using Platform.Web.Services.Images;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;

namespace Platform.Web.Components.Vms;

/// <summary>
/// A VM's CD-ROM drive on its Hardware tab. While the VM runs, the disc shown is the one its VMM reports (each stats
/// sample carries it), so an Insert or Eject from the API, another page or the guest itself shows here too. Insert and
/// Eject go through <see cref="VmCdromService"/> (the API's path); adding and removing the drive through
/// <see cref="VmService.UpdateAsync"/>. Each action checks the privilege again and is audited, as the API's filter does.
/// </summary>
public sealed partial class VmCdromPanel
{
    private VirtualMachine _vm = null!;
    private IReadOnlyList<ImageFile> _isos = [];
    private CdromDriveState? _live;
    private Guid? _chosen;
    private bool _busy;
    private bool _lockRefused;
    private string? _error;

    [Parameter, EditorRequired]
    public VirtualMachine Vm { get; set; } = null!;

    [Parameter]
    public VmPowerState State { get; set; }

    [CascadingParameter]
    public UserAccess Access { get; set; } = UserAccess.None;

    [Inject]
    public required VmCdromService Cdrom { get; set; }

    [Inject]
    public required VmService Vms { get; set; }

    [Inject]
    public required ImageLibrary Library { get; set; }

    [Inject]
    public required IVmRuntimeInfo RuntimeInfo { get; set; }

    [Inject]
    public required CurrentUser Current { get; set; }

    [Inject]
    public required ISnackbar Snackbar { get; set; }

    private bool CanConfigure => Access.Has(Privileges.VmConfig, _vm.Id);

    private bool CanChangeMedium => Access.Has(Privileges.VmConfigCdrom, _vm.Id);

    private bool CanUseLibrary => Access.Has(Privileges.ImageUse);

    private bool Stopped => State is VmPowerState.Stopped or VmPowerState.Crashed;

    private bool Live => State is VmPowerState.Running or VmPowerState.Paused;

    private bool Transitional => State is VmPowerState.Starting or VmPowerState.Stopping;

    private bool Empty => _live is { } live ? live.Medium is null : _vm.CdromImageId is null;

    /// <summary>The disc: the VMM's while it runs, else the definition's.</summary>
    private string MediumText
    {
        get
        {
            if (_live is { } live)
            {
                return live.Medium is null ? "empty"
                    : ImageAt(live.Medium) is { } image ? Label(image)
                    : Access.Has(HostPaths.Needed) ? $"{live.Medium} (not from the library)" : "a disc not from the library";
            }

            return _vm.CdromImage is { } stored ? Label(stored) : "empty";
        }
    }

    protected override void OnInitialized() =>
        Track(RuntimeInfo.SubscribeStats(Vm.Id, sample =>
        {
            var drive = sample.Stats.Devices.FirstOrDefault(d => d.Name == ControlSocketCdrom.Device);
            Refresh(() => _live = drive is null ? null : ControlSocketCdrom.From(drive));
        }));

    protected override async Task OnParametersSetAsync()
    {
        if (_vm is null || _vm.Id != Vm.Id)
        {
            _vm = Vm;
            _isos = CanUseLibrary ? (await Library.ListAsync(CancellationToken.None)).Select(u => u.Image).Where(i => i.Kind == ImageKind.Iso).ToList() : [];
        }

        if (!Live)
        {
            _live = null;
            _lockRefused = false;
        }
        else if (_live is null && _vm.HasCdrom)
        {
            await ReloadAsync();
        }
    }

    private static string Label(ImageFile image) =>
        image.VolumeLabel is { Length: > 0 } label ? $"{image.FileName} ({label})" : image.FileName;

    private ImageFile? ImageAt(string path) =>
        _isos.Append(_vm.CdromImage).FirstOrDefault(i => i is not null && Library.PathOf(i) == path);

    private async Task InsertAsync()
    {
        if (_chosen is not { } imageId)
        {
            return;
        }

        if (!await Current.CheckAsync(Privileges.VmConfigCdrom | Privileges.ImageUse, _vm.Id, AuditActions.CdromInsert, _vm.Name))
        {
            Snackbar.Add($"You need {PrivilegePolicies.Describe(Privileges.VmConfigCdrom | Privileges.ImageUse)} to insert a disc.", Severity.Error);
            return;
        }

        string name = _isos.FirstOrDefault(i => i.Id == imageId)?.FileName ?? "the disc";
        await ChangeAsync(AuditActions.CdromInsert, $"Inserted {name}.", () => Cdrom.InsertAsync(_vm.Id, imageId, CancellationToken.None));
    }

    private async Task EjectAsync(bool force)
    {
        if (!await Current.CheckAsync(Privileges.VmConfigCdrom, _vm.Id, AuditActions.CdromEject, _vm.Name))
        {
            Snackbar.Add("You need VM.Config.CDROM to eject the disc.", Severity.Error);
            return;
        }

        await ChangeAsync(AuditActions.CdromEject, force ? "Ejected the disc (forced)." : "Ejected the disc.", () => Cdrom.EjectAsync(_vm.Id, force, CancellationToken.None));
    }

    private async Task ChangeAsync(string action, string done, Func<Task<ServiceResult>> change)
    {
        _busy = true;
        _error = null;
        try
        {
            var result = await change();
            await Current.AuditAsync(action, result.Succeeded ? AuditResult.Succeeded : AuditResult.Failed, _vm.Id, _vm.Name, result.Succeeded ? null : Reason(result));
            // A refusal for a locked tray offers Force eject; anything else takes the offer back.
            _lockRefused = !result.Succeeded && action == AuditActions.CdromEject && Reason(result).Contains("locked", StringComparison.Ordinal);
            if (result.Succeeded)
            {
                Snackbar.Add(done, Severity.Success);
            }
            else
            {
                _error = Reason(result);
            }

            await ReloadAsync();
        }
        finally
        {
            _busy = false;
        }
    }

    private Task AddDriveAsync() => EditDriveAsync(input => input.Cdrom = new VmCdromInput(), "Added a CD-ROM drive.");

    private Task RemoveDriveAsync() => EditDriveAsync(input =>
    {
        input.Cdrom = null;
        input.BootOrder = BootOrders.Without(input.BootOrder, input.Disks.Count > 0, hasCdrom: false);
    }, "Removed the CD-ROM drive.");

    /// <summary>The drive itself is hardware: a change of the definition, with its rules, stamp and VM.Config.</summary>
    private async Task EditDriveAsync(Action<VmDefinitionInput> edit, string done)
    {
        if (!await Current.CheckAsync(Privileges.VmConfig, _vm.Id, AuditActions.VmUpdate, _vm.Name))
        {
            Snackbar.Add("You need VM.Config to add or remove the drive.", Severity.Error);
            return;
        }

        _busy = true;
        _error = null;
        try
        {
            var input = VmDefinitionInput.From(_vm);
            edit(input);
            var result = await Vms.UpdateAsync(_vm.Id, input, _vm.ConcurrencyStamp, CancellationToken.None);
            await Current.AuditAsync(AuditActions.VmUpdate, result.Succeeded ? AuditResult.Succeeded : AuditResult.Failed, _vm.Id, _vm.Name,
                result.Succeeded ? "CD-ROM drive" : Reason(result));
            if (result.Succeeded)
            {
                _vm = result.Value!;
                Snackbar.Add(done, Severity.Success);
            }
            else
            {
                _error = Reason(result);
            }
        }
        finally
        {
            _busy = false;
        }
    }

    /// <summary>The definition as saved now, and the VMM's drive when it runs.</summary>
    private async Task ReloadAsync()
    {
        if (await Cdrom.GetAsync(_vm.Id, CancellationToken.None) is { } view)
        {
            _live = view.Live;
            if (view.Vm.ConcurrencyStamp != _vm.ConcurrencyStamp && await Vms.FindAsync(_vm.Id, CancellationToken.None) is { } saved)
            {
                _vm = saved;
            }
        }
    }

    private static string Reason(ServiceResult result) =>
        result.Errors.Count > 0 ? string.Join(" ", result.Errors.SelectMany(e => e.Value)) : result.Message ?? "It did not work.";
}
