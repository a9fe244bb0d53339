using Microsoft.EntityFrameworkCore;
using Platform.Web.Data;
using Platform.Web.Services.Images;
using Platform.Web.Services.Runtime;

namespace Platform.Web.Services.Vms;

/// <summary>A VM's CD-ROM drive as the pages and the API show it.</summary>
/// <param name="Vm">The VM, its stored disc (<see cref="VirtualMachine.CdromImage"/>) loaded.</param>
/// <param name="Live">What the running VMM says of the drive; null while the VM is not running.</param>
/// <param name="LiveImage">The library image at <see cref="CdromDriveState.Medium"/>, when the disc is one.</param>
public sealed record VmCdromView(VirtualMachine Vm, CdromDriveState? Live, ImageFile? LiveImage);

/// <summary>
/// Insert and Eject, as virt-manager's and Proxmox's CD-ROM buttons: on a running VM through its VMM first (the guest sees
/// the disc change at once), then in the definition, so the next start has the same disc and the image stays in use
/// (the library will not delete it). On a stopped VM only the definition changes. A refusal by the VMM (a locked tray,
/// a file gone) changes nothing.
/// </summary>
public sealed class VmCdromService(
    IDbContextFactory<PlatformDbContext> dbFactory, IVmRuntime runtime, IRunningCdrom drive, ImageLibrary images, IVmEventLog events)
{
    /// <summary>The drive of VM <paramref name="vmId"/>; null when there is no such VM.</summary>
    public async Task<VmCdromView?> GetAsync(Guid vmId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var vm = await db.VirtualMachines.AsNoTracking().IgnoreAutoIncludes().Include(v => v.CdromImage)
            .FirstOrDefaultAsync(v => v.Id == vmId, cancellationToken);
        if (vm is null)
        {
            return null;
        }

        var live = vm.HasCdrom && IsLive(runtime.GetState(vmId)) ? await QueryAsync(vmId, cancellationToken) : null;
        return new VmCdromView(vm, live, live?.Medium is { } medium ? await FindByPathAsync(db, medium, cancellationToken) : null);
    }

    /// <summary>
    /// Puts ISO image <paramref name="imageId"/> in the drive. NotFound without the VM; Conflict without a drive, while the VM
    /// starts or stops, or when the VMM refuses (the reason says why); Invalid for an image that is missing or not an ISO.
    /// </summary>
    public async Task<ServiceResult> InsertAsync(Guid vmId, Guid imageId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var vm = await db.VirtualMachines.IgnoreAutoIncludes().FirstOrDefaultAsync(v => v.Id == vmId, cancellationToken);
        if (NoDrive(vm) is { } refused)
        {
            return refused;
        }

        var image = await db.Images.AsNoTracking().FirstOrDefaultAsync(i => i.Id == imageId, cancellationToken);
        if (image is null || image.Kind != ImageKind.Iso)
        {
            return ServiceResult.Invalid(new Dictionary<string, string[]>
            {
                ["imageId"] = [image is null
                    ? "That image is not in the library (it may have been deleted)."
                    : $"{image.FileName} is {ImageLibrary.Describe(image.Kind)}, not an ISO image: upload the disc as kind iso."],
            });
        }

        return await ChangeAsync(db, vm!, image, () => drive.InsertAsync(vmId, images.PathOf(image), cancellationToken),
            $"Put {image.FileName} in {vm!.Name}'s CD-ROM drive", cancellationToken);
    }

    /// <summary>
    /// Takes the disc out (an empty drive stays empty). With <paramref name="force"/>, even while the guest has locked the
    /// tray; without it that is a Conflict that says so (the VMM asked the guest to eject).
    /// </summary>
    public async Task<ServiceResult> EjectAsync(Guid vmId, bool force, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var vm = await db.VirtualMachines.IgnoreAutoIncludes().FirstOrDefaultAsync(v => v.Id == vmId, cancellationToken);
        if (NoDrive(vm) is { } refused)
        {
            return refused;
        }

        return await ChangeAsync(db, vm!, null, () => drive.EjectAsync(vmId, force, cancellationToken),
            $"Ejected the disc from {vm!.Name}'s CD-ROM drive{(force ? " (forced)" : "")}", cancellationToken);
    }

    /// <summary>The VMM follows when it runs; the definition always does; the event log says which.</summary>
    private async Task<ServiceResult> ChangeAsync(PlatformDbContext db, VirtualMachine vm, ImageFile? image,
        Func<Task> changeLive, string done, CancellationToken cancellationToken)
    {
        var state = runtime.GetState(vm.Id);
        if (state is VmPowerState.Starting or VmPowerState.Stopping)
        {
            return ServiceResult.Fail(ServiceStatus.Conflict,
                $"{vm.Name} is {state.ToString().ToLowerInvariant()}; change the disc once it runs or has stopped.");
        }

        bool live = IsLive(state);
        if (live)
        {
            try
            {
                await changeLive();
            }
            catch (Exception ex) when (ex is VmRuntimeException or CdromLockedException)
            {
                await LogAsync(vm, $"{done}: refused. {ex.Message}", VmEventResult.Failed, cancellationToken);
                return ServiceResult.Fail(ServiceStatus.Conflict, ex.Message);
            }
        }

        vm.CdromImageId = image?.Id;
        vm.UpdatedAt = DateTimeOffset.UtcNow;
        vm.ConcurrencyStamp = Guid.NewGuid();
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            // Someone saved the VM in between (the VMM, if it runs, has the new disc already: the next Insert or Eject mends it).
            return ServiceResult.Fail(ServiceStatus.Conflict, $"{vm.Name} was changed by someone else meanwhile; look again and repeat the change.");
        }

        await LogAsync(vm, live ? $"{done}; the guest sees it now." : $"{done}; the VM has it when it starts.", VmEventResult.Succeeded, cancellationToken);
        return ServiceResult.Ok();
    }

    private Task LogAsync(VirtualMachine vm, string message, VmEventResult result, CancellationToken cancellationToken) =>
        events.AddAsync(new VmEvent { VmId = vm.Id, VmName = vm.Name, Kind = VmEventKinds.Cdrom, Result = result, Message = message }, cancellationToken);

    private static ServiceResult? NoDrive(VirtualMachine? vm) => vm switch
    {
        null => ServiceResult.Fail(ServiceStatus.NotFound, "There is no such VM; it may have been deleted."),
        { HasCdrom: false } => ServiceResult.Fail(ServiceStatus.Conflict,
            $"{vm.Name} has no CD-ROM drive: add one (stop it, then on its Hardware tab or in Edit) first."),
        _ => null,
    };

    /// <summary>States in which a VMM runs the machine and answers for its drive.</summary>
    private static bool IsLive(VmPowerState state) => state is VmPowerState.Running or VmPowerState.Paused;

    private async Task<CdromDriveState?> QueryAsync(Guid vmId, CancellationToken cancellationToken)
    {
        try
        {
            return await drive.QueryAsync(vmId, cancellationToken);
        }
        catch (VmRuntimeException)
        {
            return null; // stopped meanwhile: the definition is what there is to show
        }
    }

    private async Task<ImageFile?> FindByPathAsync(PlatformDbContext db, string path, CancellationToken cancellationToken)
    {
        string name = Path.GetFileName(path);
        var image = await db.Images.AsNoTracking().FirstOrDefaultAsync(i => i.FileName == name, cancellationToken);
        return image is not null && images.PathOf(image) == path ? image : null;
    }
}
