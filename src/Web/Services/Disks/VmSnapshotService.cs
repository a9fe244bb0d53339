using Microsoft.EntityFrameworkCore;
using Platform.Web.Data;
using Platform.Web.Services.Images;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Tasks;
using Platform.Web.Services.Vms;

namespace Platform.Web.Services.Disks;

/// <summary>
/// A VM's snapshot: one internal snapshot of that name in each of its qcow2 disks. <see cref="CreatedBy"/> comes from
/// the dashboard's database (null for one taken outside it); sizes add up the disks'.
/// </summary>
public sealed record VmSnapshotInfo(string Name, DateTimeOffset CreatedAt, string? CreatedBy, int Disks, long VirtualSizeBytes, long VmStateSizeBytes);

/// <summary>
/// Snapshots of a VM's disks, taken, reverted and deleted while the VM is stopped, across every disk the VM owns alone
/// that is qcow2: its own qcow2 disks and its linked-clone overlays (made now if the VM never started). Library images
/// and host files are never touched: other VMs or the host may use them. Taking one is all or nothing: a disk that
/// fails has the snapshot removed from the disks already done.
/// </summary>
public sealed class VmSnapshotService(
    IDbContextFactory<PlatformDbContext> dbFactory, VmService vms, IVmRuntime runtime, VmDiskFiles files, ImageLibrary images, IVmEventLog events, ITaskLog tasks)
{
    public async Task<ServiceResult<IReadOnlyList<VmSnapshotInfo>>> ListAsync(Guid vmId, CancellationToken cancellationToken)
    {
        var vm = await vms.FindAsync(vmId, cancellationToken);
        if (vm is null)
        {
            return ServiceResult<IReadOnlyList<VmSnapshotInfo>>.Fail(ServiceStatus.NotFound, "There is no such VM; it may have been deleted.");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = await db.VmSnapshots.AsNoTracking().Where(s => s.VirtualMachineId == vmId).ToListAsync(cancellationToken);
        var found = new List<(string Path, DiskSnapshotFacts Snapshot)>();
        foreach (string path in SnapshotDisks(vm, create: false))
        {
            try
            {
                found.AddRange(files.Tool.ListSnapshots(path).Select(s => (path, s)));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return ServiceResult<IReadOnlyList<VmSnapshotInfo>>.Fail(ServiceStatus.Conflict, $"The snapshots of {path} cannot be read: {ex.Message}");
            }
        }

        var list = found.GroupBy(f => f.Snapshot.Name, StringComparer.Ordinal).Select(g =>
        {
            var row = rows.FirstOrDefault(r => r.Name == g.Key);
            return new VmSnapshotInfo(g.Key, row?.CreatedAt ?? g.Min(s => s.Snapshot.Created), row?.CreatedBy, g.Count(),
                g.Sum(s => s.Snapshot.VirtualSizeBytes), g.Sum(s => s.Snapshot.VmStateSizeBytes));
        }).OrderBy(s => s.CreatedAt).ToList();
        return ServiceResult<IReadOnlyList<VmSnapshotInfo>>.Ok(list);
    }

    public async Task<ServiceResult<VmSnapshotInfo>> CreateAsync(Guid vmId, string? name, string? userName, CancellationToken cancellationToken)
    {
        if (await vms.FindAsync(vmId, cancellationToken) is null)
        {
            return ServiceResult<VmSnapshotInfo>.Fail(ServiceStatus.NotFound, "There is no such VM; it may have been deleted.");
        }

        using var task = tasks.Begin(TaskActions.SnapshotCreate, vmId, $"snapshot {name}", userName: TaskActor.Current ?? userName);
        return task.End(await CreateCoreAsync(vmId, name, userName, task, cancellationToken), $"took snapshot {name}");
    }

    private async Task<ServiceResult<VmSnapshotInfo>> CreateCoreAsync(Guid vmId, string? name, string? userName, TaskScope task, CancellationToken cancellationToken)
    {
        if (SnapshotNameRules.Check(name) is { } problem)
        {
            return ServiceResult<VmSnapshotInfo>.Invalid(new Dictionary<string, string[]> { ["name"] = [problem] });
        }

        var (vm, disks, refused) = await PrepareAsync<VmSnapshotInfo>(vmId, "take a snapshot", create: true, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        if (disks.Count == 0)
        {
            return ServiceResult<VmSnapshotInfo>.Fail(ServiceStatus.Conflict,
                $"{vm!.Name} has no qcow2 disk of its own to snapshot (raw disks, library images and host files cannot be snapshotted): add a blank qcow2 disk or a linked clone.");
        }

        var existing = await ListAsync(vmId, cancellationToken);
        if (existing.Succeeded && existing.Value!.Any(s => s.Name == name))
        {
            return ServiceResult<VmSnapshotInfo>.Fail(ServiceStatus.Conflict, $"{vm!.Name} already has a snapshot named {name}; choose another name or delete that one first.");
        }

        var done = new List<string>();
        foreach (string path in disks)
        {
            task.Log($"Snapshot {name} of {path}");
            try
            {
                files.Tool.CreateSnapshot(path, name!);
                done.Add(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                foreach (string undo in done)
                {
                    task.Log($"Undo: deleting snapshot {name} of {undo}");
                    TryDelete(undo, name!);
                }

                await LogAsync(vm!, VmEventResult.Failed, $"Could not take snapshot {name} of {vm!.Name}: {ex.Message}", cancellationToken);
                return ServiceResult<VmSnapshotInfo>.Fail(ServiceStatus.Conflict, $"The snapshot could not be taken: {ex.Message}");
            }
        }

        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            db.VmSnapshots.RemoveRange(db.VmSnapshots.Where(s => s.VirtualMachineId == vmId && s.Name == name));
            db.VmSnapshots.Add(new VmSnapshot { VirtualMachineId = vmId, Name = name!, CreatedBy = userName });
            await db.SaveChangesAsync(cancellationToken);
        }

        await LogAsync(vm!, VmEventResult.Succeeded, $"Took snapshot {name} of {vm!.Name} ({disks.Count} disk{(disks.Count == 1 ? "" : "s")}).", cancellationToken);
        var listed = await ListAsync(vmId, cancellationToken);
        return ServiceResult<VmSnapshotInfo>.Ok(listed.Value!.First(s => s.Name == name));
    }

    /// <summary>Puts every disk back as it was when the snapshot was taken; what was written since is lost.</summary>
    public Task<ServiceResult> RevertAsync(Guid vmId, string name, CancellationToken cancellationToken) =>
        ApplyAsync(vmId, name, TaskActions.SnapshotRevert, "revert to a snapshot", files.Tool.RevertSnapshot, "Reverted {0} to snapshot {1}.", cancellationToken);

    public async Task<ServiceResult> DeleteAsync(Guid vmId, string name, CancellationToken cancellationToken)
    {
        var result = await ApplyAsync(vmId, name, TaskActions.SnapshotDelete, "delete a snapshot", files.Tool.DeleteSnapshot, "Deleted snapshot {1} of {0}.", cancellationToken);
        if (result.Succeeded)
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            await db.VmSnapshots.Where(s => s.VirtualMachineId == vmId && s.Name == name).ExecuteDeleteAsync(cancellationToken);
        }

        return result;
    }

    private async Task<ServiceResult> ApplyAsync(Guid vmId, string name, string taskAction, string what, Action<string, string> action, string done, CancellationToken cancellationToken)
    {
        if (await vms.FindAsync(vmId, cancellationToken) is null)
        {
            return ServiceResult.Fail(ServiceStatus.NotFound, "There is no such VM; it may have been deleted.");
        }

        using var task = tasks.Begin(taskAction, vmId, $"snapshot {name}");
        return task.End(await ApplyCoreAsync(vmId, name, what, action, done, task, cancellationToken), $"{what}: {name}");
    }

    private async Task<ServiceResult> ApplyCoreAsync(Guid vmId, string name, string what, Action<string, string> action, string done, TaskScope task,
        CancellationToken cancellationToken)
    {
        var (vm, disks, refused) = await PrepareAsync<bool>(vmId, what, create: false, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        var holding = new List<string>();
        foreach (string path in disks)
        {
            try
            {
                if (files.Tool.ListSnapshots(path).Any(s => s.Name == name))
                {
                    holding.Add(path);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return ServiceResult.Fail(ServiceStatus.Conflict, $"The snapshots of {path} cannot be read: {ex.Message}");
            }
        }

        if (holding.Count == 0)
        {
            return ServiceResult.Fail(ServiceStatus.NotFound, $"{vm!.Name} has no snapshot named {name}.");
        }

        foreach (string path in holding)
        {
            task.Log($"{char.ToUpperInvariant(what[0])}{what[1..]} ({name}) in {path}");
            try
            {
                action(path, name);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                await LogAsync(vm!, VmEventResult.Failed, $"Could not {what} ({name}) of {vm!.Name}: {ex.Message}", cancellationToken);
                return ServiceResult.Fail(ServiceStatus.Conflict, $"Could not {what}: {ex.Message}");
            }
        }

        await LogAsync(vm!, VmEventResult.Succeeded, string.Format(System.Globalization.CultureInfo.InvariantCulture, done, vm!.Name, name), cancellationToken);
        return ServiceResult.Ok();
    }

    /// <summary>The VM, stopped, and its snapshot disks; or the refusal (as a result of <typeparamref name="T"/>).</summary>
    private async Task<(VirtualMachine? Vm, IReadOnlyList<string> Disks, ServiceResult<T>? Refused)> PrepareAsync<T>(
        Guid vmId, string what, bool create, CancellationToken cancellationToken)
    {
        var vm = await vms.FindAsync(vmId, cancellationToken);
        if (vm is null)
        {
            return (null, [], ServiceResult<T>.Fail(ServiceStatus.NotFound, "There is no such VM; it may have been deleted."));
        }

        if (vm.IsTemplate)
        {
            return (vm, [], ServiceResult<T>.Fail(ServiceStatus.Conflict, VmService.TemplateDisksMessage(vm.Name)));
        }

        var state = runtime.GetState(vmId);
        if (state is not (VmPowerState.Stopped or VmPowerState.Crashed))
        {
            return (vm, [], ServiceResult<T>.Fail(ServiceStatus.Conflict,
                $"{vm.Name} is {state.ToString().ToLowerInvariant()}; snapshots are taken, reverted and deleted while it is stopped, so shut it down to {what}."));
        }

        try
        {
            return (vm, SnapshotDisks(vm, create), null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (vm, [], ServiceResult<T>.Fail(ServiceStatus.Conflict, $"A linked clone of {vm.Name} could not be made: {ex.Message}"));
        }
    }

    /// <summary>The qcow2 files the VM owns alone; a linked clone's overlay is made when <paramref name="create"/>, else skipped until it exists.</summary>
    private List<string> SnapshotDisks(VirtualMachine vm, bool create)
    {
        var paths = new List<string>();
        foreach (var disk in vm.Disks.OrderBy(d => d.Position))
        {
            if (disk.FileName is not null && disk.Format == ImageFormat.Qcow2)
            {
                paths.Add(files.PathOf(disk));
            }
            else if (disk.LinkedClone && disk.Image is not null)
            {
                string overlay = create ? images.EnsureLinkedClone(disk) : images.LinkedClonePath(disk);
                if (File.Exists(overlay))
                {
                    paths.Add(overlay);
                }
            }
        }

        return paths;
    }

    private void TryDelete(string path, string name)
    {
        try
        {
            files.Tool.DeleteSnapshot(path, name);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left behind in that disk only; the listing shows it there, and deleting it again removes it.
        }
    }

    private Task LogAsync(VirtualMachine vm, VmEventResult result, string message, CancellationToken cancellationToken) =>
        events.AddAsync(new VmEvent { VmId = vm.Id, VmName = vm.Name, Kind = VmEventKinds.Snapshot, Result = result, Message = message }, cancellationToken);
}
