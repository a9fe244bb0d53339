using Microsoft.AspNetCore.Components;
using MudBlazor;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services;
using Platform.Web.Services.CloudInit;
using Platform.Web.Services.Disks;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;

namespace Platform.Web.Components.Vms;

/// <summary>
/// A VM's disks on its Hardware tab, read from their files, with the changes of <see cref="VmDiskService"/> for users
/// with VM.Config: each checked again and audited here, as the API's filter does.
/// </summary>
public partial class VmDisksPanel
{
    /// <summary>Detaching one of the VM's own disks keeps its file instead of deleting it.</summary>
    private bool _keepDetachedFiles;

    private VirtualMachine _vm = null!;
    private IReadOnlyList<VmDiskDetails> _details = [];
    private CloudInitSeedDetails? _seed;
    private readonly Dictionary<Guid, long> _growMiB = [];
    private long _newMiB = 1024;
    private ImageFormat _newFormat = ImageFormat.Qcow2;
    private DiskPreallocation _newPreallocation = DiskPreallocation.Off;
    private bool _busy;

    [Parameter, EditorRequired]
    public VirtualMachine Vm { get; set; } = null!;

    [Parameter]
    public VmPowerState State { get; set; }

    [CascadingParameter]
    public UserAccess Access { get; set; } = UserAccess.None;

    [Inject]
    public required VmDiskService Disks { get; set; }

    [Inject]
    public required VmService Vms { get; set; }

    [Inject]
    public required CloudInitService CloudInit { get; set; }

    [Inject]
    public required CurrentUser Current { get; set; }

    [Inject]
    public required ISnackbar Snackbar { get; set; }

    private bool CanConfigure => Access.Has(Privileges.VmConfig, _vm.Id);

    private bool ShowPaths => Access.Has(HostPaths.Needed);

    private bool Stopped => State is VmPowerState.Stopped or VmPowerState.Crashed;

    protected override void OnParametersSet()
    {
        if (_vm is null || _vm.Id != Vm.Id)
        {
            Show(Vm);
        }
    }

    private void Show(VirtualMachine vm)
    {
        _vm = vm;
        _details = Disks.Describe(vm);
        _seed = CloudInit.DescribeSeed(vm);
        foreach (var d in _details)
        {
            _growMiB[d.Disk.Id] = Math.Max(1, (d.VirtualSizeBytes ?? 0) / DiskSizeRules.MiB);
        }
    }

    private Task AddBlankAsync() => ChangeAsync(AuditActions.DiskAdd, "Added a blank disk.", authorize => Disks.AddAsync(_vm.Id,
        new VmDiskInput { Blank = new BlankDiskInput { SizeBytes = _newMiB * DiskSizeRules.MiB, Format = _newFormat, Preallocation = _newPreallocation } },
        authorize, CancellationToken.None));

    private Task DetachAsync(VmDisk disk) => ChangeAsync(AuditActions.DiskDetach,
        disk.FileName is null ? $"Detached disk {disk.Position + 1}."
            : _keepDetachedFiles ? $"Detached disk {disk.Position + 1}; its file stays in the VM's folder." : $"Detached and deleted disk {disk.Position + 1}.",
        authorize => Disks.DetachAsync(_vm.Id, disk.Position, authorize, CancellationToken.None, keepFile: _keepDetachedFiles));

    private Task UpdateAsync(int index, DiskCacheMode? cache, bool? readOnly, DiskBus? bus = null) => ChangeAsync(AuditActions.DiskUpdate, $"Changed disk {index + 1}.",
        authorize => Disks.UpdateAsync(_vm.Id, index, cache, readOnly, authorize, CancellationToken.None, bus));

    /// <summary>How the disk list names a bus: "virtio" (virtio-blk) or "SATA" (on the AHCI controller).</summary>
    internal static string BusName(DiskBus bus) => bus == DiskBus.Sata ? "SATA" : "virtio";

    private Task MoveUpAsync(int index)
    {
        var order = Enumerable.Range(0, _details.Count).ToList();
        (order[index - 1], order[index]) = (order[index], order[index - 1]);
        return ChangeAsync(AuditActions.DiskReorder, $"Moved disk {index + 1} up.", authorize => Disks.ReorderAsync(_vm.Id, order, authorize, CancellationToken.None));
    }

    private async Task GrowAsync(VmDisk disk)
    {
        if (!await Current.CheckAsync(Privileges.VmConfig, _vm.Id, AuditActions.DiskResize, _vm.Name))
        {
            Snackbar.Add("You need VM.Config to grow a disk.", Severity.Error);
            return;
        }

        _busy = true;
        try
        {
            long size = _growMiB[disk.Id] * DiskSizeRules.MiB;
            var result = await Disks.ResizeAsync(_vm.Id, disk.Position, size, CancellationToken.None);
            await Current.AuditAsync(AuditActions.DiskResize, result.Succeeded ? AuditResult.Succeeded : AuditResult.Failed, _vm.Id, _vm.Name,
                result.Succeeded ? $"disk {disk.Position} to {size} bytes" : Reason(result));
            if (result.Succeeded)
            {
                Snackbar.Add($"Disk {disk.Position + 1} is now {Services.Images.ImageLibrary.FormatSize(result.Value!.VirtualSizeBytes ?? size)}.", Severity.Success);
                Show(_vm);
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

    /// <summary>Checks VM.Config again (the circuit may be older than a revocation), makes the change, audits it, shows the VM as saved.</summary>
    private async Task ChangeAsync(string action, string done, Func<VmDiskService.Authorize, Task<ServiceResult<VirtualMachine>>> change)
    {
        if (!await Current.CheckAsync(Privileges.VmConfig, _vm.Id, action, _vm.Name))
        {
            Snackbar.Add("You need VM.Config to change this VM's disks.", Severity.Error);
            return;
        }

        _busy = true;
        try
        {
            var result = await change(AuthorizeAsync);
            await Current.AuditAsync(action, result.Succeeded ? AuditResult.Succeeded : result.Status == ServiceStatus.Forbidden ? AuditResult.Denied : AuditResult.Failed,
                _vm.Id, _vm.Name, result.Succeeded ? null : Reason(result));
            if (result.Succeeded)
            {
                Snackbar.Add(done, Severity.Success);
                Show(result.Value!);
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

    /// <summary>What the page may add: nothing but blank disks, so only a host disk made writable needs User.Manage.</summary>
    private async Task<string?> AuthorizeAsync(VmDefinitionInput input, VirtualMachine current) =>
        HostPaths.Added(input, current) is { Count: > 0 } added && !await Current.HasAsync(HostPaths.Needed)
            ? $"Making the host disk {string.Join(", ", added)} writable needs {PrivilegeNames.Format(HostPaths.Needed)}."
            : null;

    private static string Reason(ServiceResult result) =>
        result.Errors.Count > 0 ? string.Join(" ", result.Errors.SelectMany(e => e.Value)) : result.Message ?? "It did not work.";
}
