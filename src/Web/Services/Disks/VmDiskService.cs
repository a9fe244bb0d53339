using Platform.Web.Data;
using Platform.Web.Services.Images;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Tasks;
using Platform.Web.Services.Vms;

namespace Platform.Web.Services.Disks;

/// <summary>
/// Changes to one VM's disks, for the Hardware tab and <c>/api/v1/vms/{id}/disks</c> alike: attach (a blank disk, a
/// library image or a host file), detach, cache mode and read-only, order, and growing. Every change but growing is
/// made on a stopped VM (the VMM reads its disks at start) and saved through <see cref="VmService"/>, so it passes the
/// same rules as an edit of the whole definition. <paramref name="authorize"/> of each method is the caller's own check of
/// what the new definition adds (library images, host paths): a refusal message, or null.
/// </summary>
public sealed class VmDiskService(
    VmService vms, IVmRuntime runtime, VmDiskFiles files, ImageLibrary images, IRunningDiskResizer resizer, IVmEventLog events, ITaskLog tasks,
    Quotas.QuotaService? quotas = null)
{
    public delegate Task<string?> Authorize(VmDefinitionInput input, VirtualMachine current);

    public Task<ServiceResult<VirtualMachine>> AddAsync(Guid vmId, VmDiskInput disk, Authorize authorize, CancellationToken cancellationToken) =>
        ChangeAsync(vmId, "attach a disk", (vm, input) =>
        {
            input.Disks.Add(disk);
            return null;
        }, authorize, cancellationToken);

    /// <summary>
    /// Detaches disk <paramref name="index"/>. A disk of the VM's own is deleted, unless <paramref name="keepFile"/>: then
    /// its file stays in the VM's folder (<c>disks/{vm}/</c>), kept when the VM is deleted too, for the host to use.
    /// </summary>
    public Task<ServiceResult<VirtualMachine>> DetachAsync(Guid vmId, int index, Authorize authorize, CancellationToken cancellationToken,
        bool keepFile = false) =>
        ChangeAsync(vmId, "detach a disk", (vm, input) =>
        {
            if (NoSuchDisk(vm, input, index) is { } missing)
            {
                return missing;
            }

            input.Disks.RemoveAt(index);
            input.KeepRemovedFiles = keepFile;
            return null;
        }, authorize, cancellationToken);

    /// <summary>Changes the cache mode, read-only and/or bus of disk <paramref name="index"/>; null leaves it as it is.</summary>
    public Task<ServiceResult<VirtualMachine>> UpdateAsync(Guid vmId, int index, DiskCacheMode? cache, bool? readOnly, Authorize authorize,
        CancellationToken cancellationToken, DiskBus? bus = null) =>
        ChangeAsync(vmId, "change a disk", (vm, input) =>
        {
            if (NoSuchDisk(vm, input, index) is { } missing)
            {
                return missing;
            }

            input.Disks[index].Cache = cache ?? input.Disks[index].Cache;
            input.Disks[index].ReadOnly = readOnly ?? input.Disks[index].ReadOnly;
            input.Disks[index].Bus = bus ?? input.Disks[index].Bus;
            return null;
        }, authorize, cancellationToken);

    /// <summary>Puts the disks in <paramref name="order"/> (each current index once; the first is the boot disk).</summary>
    public Task<ServiceResult<VirtualMachine>> ReorderAsync(Guid vmId, IReadOnlyList<int> order, Authorize authorize, CancellationToken cancellationToken) =>
        ChangeAsync(vmId, "reorder its disks", (vm, input) =>
        {
            if (order.Count != input.Disks.Count || order.Distinct().Count() != order.Count || order.Any(i => i < 0 || i >= input.Disks.Count))
            {
                return ServiceResult<VirtualMachine>.Invalid(new Dictionary<string, string[]>
                {
                    ["order"] = [$"Give each of the {input.Disks.Count} disks' current index (0 to {input.Disks.Count - 1}) once, the boot disk first."],
                });
            }

            input.Disks = [.. order.Select(i => input.Disks[i])];
            return null;
        }, authorize, cancellationToken);

    /// <summary>
    /// Grows disk <paramref name="index"/> to <paramref name="sizeBytes"/>: on a stopped VM through the disk image library,
    /// on a running one through its VMM, which tells the guest. Only a file the VM owns alone grows (its own disk or its
    /// linked-clone overlay); shrinking is refused, since it would cut off whatever the guest keeps at the disk's end.
    /// </summary>
    public async Task<ServiceResult<VmDiskDetails>> ResizeAsync(Guid vmId, int index, long sizeBytes, CancellationToken cancellationToken)
    {
        var vm = await vms.FindAsync(vmId, cancellationToken);
        if (vm is null)
        {
            return ServiceResult<VmDiskDetails>.Fail(ServiceStatus.NotFound, "There is no such VM; it may have been deleted.");
        }

        // A task from here on, refusals included: "why did my disk not grow" is what the task log is for.
        using var task = tasks.Begin(TaskActions.DiskResize, vmId, $"disk {index}", vm.Name);
        task.Log($"Grow disk {index} of {vm.Name} to {ImageLibrary.FormatSize(sizeBytes)} ({sizeBytes} bytes)");
        return task.End(await GrowAsync(vm, index, sizeBytes, task, cancellationToken), $"disk {index} is {ImageLibrary.FormatSize(sizeBytes)}");
    }

    private async Task<ServiceResult<VmDiskDetails>> GrowAsync(VirtualMachine vm, int index, long sizeBytes, TaskScope task, CancellationToken cancellationToken)
    {
        var vmId = vm.Id;
        var disk = vm.Disks.FirstOrDefault(d => d.Position == index);
        if (disk is null)
        {
            return index == vm.Disks.Count && vm.CloudInit is { Enabled: true }
                ? ServiceResult<VmDiskDetails>.Fail(ServiceStatus.Conflict, SeedIsNotEditable(index))
                : ServiceResult<VmDiskDetails>.Fail(ServiceStatus.NotFound, $"{vm.Name} has no disk {index} (disks are numbered from 0).");
        }

        if (vm.IsTemplate)
        {
            return ServiceResult<VmDiskDetails>.Fail(ServiceStatus.Conflict, VmService.TemplateDisksMessage(vm.Name));
        }

        if (DiskSizeRules.Check(sizeBytes) is { } sizeProblem)
        {
            return SizeInvalid(sizeProblem);
        }

        if (disk.FileName is null && !disk.LinkedClone)
        {
            return ServiceResult<VmDiskDetails>.Fail(ServiceStatus.Conflict, disk.Image is { } image
                ? $"Disk {index} is the library image {image.FileName}, which other VMs may use: only a VM's own disks and linked clones grow."
                : $"Disk {index} is the host file {disk.Path}, which the dashboard does not manage: grow it on the host (qemu-img resize) while the VM is stopped.");
        }

        var state = runtime.GetState(vmId);
        bool running = state is VmPowerState.Running or VmPowerState.Paused;
        if (!running && state is not (VmPowerState.Stopped or VmPowerState.Crashed))
        {
            return ServiceResult<VmDiskDetails>.Fail(ServiceStatus.Conflict, $"{vm.Name} is {state.ToString().ToLowerInvariant()}; wait until it runs or has stopped.");
        }

        string path;
        try
        {
            path = disk.FileName is not null ? files.PathOf(disk) : running ? images.LinkedClonePath(disk) : images.EnsureLinkedClone(disk);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return ServiceResult<VmDiskDetails>.Fail(ServiceStatus.Conflict, $"Disk {index}'s linked clone could not be made: {ex.Message}");
        }

        if (files.TryDescribe(path, out string? problem) is not { } before)
        {
            return ServiceResult<VmDiskDetails>.Fail(ServiceStatus.Conflict, $"Disk {index} cannot be read: {problem}");
        }

        if (sizeBytes < before.VirtualSizeBytes)
        {
            return SizeInvalid($"Disk {index} is {ImageLibrary.FormatSize(before.VirtualSizeBytes)} ({before.VirtualSizeBytes} bytes); shrinking it would cut off " +
                "whatever the guest keeps at its end, so disks only grow. Shrink the file system inside the guest and copy it to a smaller disk instead.");
        }

        if (sizeBytes > before.VirtualSizeBytes && files.CheckSpace(sizeBytes - before.VirtualSizeBytes) is { } space)
        {
            return SizeInvalid(space);
        }

        // Growing counts against the VM owner's disk quota (adding a disk does too, through VmService).
        if (quotas is not null && sizeBytes > before.VirtualSizeBytes
            && await quotas.CheckAsync(vm.OwnerId, new Quotas.QuotaAmounts(DiskBytes: sizeBytes - before.VirtualSizeBytes), "growing this disk", cancellationToken) is { } refused)
        {
            return ServiceResult<VmDiskDetails>.Fail(ServiceStatus.Forbidden, refused);
        }

        task.Log($"{path}: {ImageLibrary.FormatName(before.Format)}, {ImageLibrary.FormatSize(before.VirtualSizeBytes)} now");
        if (sizeBytes == before.VirtualSizeBytes)
        {
            task.Log("It is that size already: nothing to do.");
        }

        if (sizeBytes > before.VirtualSizeBytes)
        {
            task.Log(running ? "The VM runs: its VMM grows the file and tells the guest (block_resize)." : "The VM is stopped: growing the file.");
            try
            {
                if (running)
                {
                    await resizer.ResizeAsync(vmId, index, sizeBytes, cancellationToken);
                }
                else
                {
                    files.Tool.Grow(path, sizeBytes);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or VmRuntimeException)
            {
                await LogAsync(vm, VmEventKinds.DiskResize, VmEventResult.Failed, $"Could not grow disk {index} of {vm.Name}: {ex.Message}", cancellationToken);
                return ServiceResult<VmDiskDetails>.Fail(ServiceStatus.Conflict, $"Disk {index} could not be grown: {ex.Message}");
            }

            await LogAsync(vm, VmEventKinds.DiskResize, VmEventResult.Succeeded,
                $"Grew disk {index} of {vm.Name} from {ImageLibrary.FormatSize(before.VirtualSizeBytes)} to {ImageLibrary.FormatSize(sizeBytes)}{(running ? " while it runs" : "")}.",
                cancellationToken);
        }

        return ServiceResult<VmDiskDetails>.Ok(Describe(vm).First(d => d.Disk.Id == disk.Id));
    }

    /// <summary>Each disk of <paramref name="vm"/> as it is now (files read, not opened: a running VM's disks too).</summary>
    public IReadOnlyList<VmDiskDetails> Describe(VirtualMachine vm)
    {
        ArgumentNullException.ThrowIfNull(vm);
        return vm.Disks.OrderBy(d => d.Position).Select(disk =>
        {
            string path = FileOf(disk);
            bool own = disk.FileName is not null || disk.LinkedClone;
            if (disk.LinkedClone && !File.Exists(path) && disk.Image is { } baseImage)
            {
                // Made at first start: until then the guest would see the base as it is, and the clone takes nothing.
                return new VmDiskDetails(disk, path, own, ImageFormat.Qcow2, baseImage.VirtualSizeBytes, 0, null);
            }

            var facts = files.TryDescribe(path, out string? problem);
            return new VmDiskDetails(disk, path, own, facts?.Format, facts?.VirtualSizeBytes, facts?.AllocatedBytes, problem);
        }).ToList();
    }

    /// <summary>The file the VM reads and writes for <paramref name="disk"/> (its image loaded).</summary>
    public string FileOf(VmDisk disk)
    {
        ArgumentNullException.ThrowIfNull(disk);
        return disk.FileName is not null ? files.PathOf(disk)
            : disk.LinkedClone ? images.LinkedClonePath(disk)
            : disk.Image is { } image ? images.PathOf(image)
            : disk.Path ?? "";
    }

    private static ServiceResult<VmDiskDetails> SizeInvalid(string problem) =>
        ServiceResult<VmDiskDetails>.Invalid(new Dictionary<string, string[]> { ["sizeBytes"] = [problem] });

    private static ServiceResult<VirtualMachine>? NoSuchDisk(VirtualMachine vm, VmDefinitionInput input, int index) =>
        index == input.Disks.Count && vm.CloudInit is { Enabled: true }
            ? ServiceResult<VirtualMachine>.Fail(ServiceStatus.Conflict, SeedIsNotEditable(index))
        : index < 0 || index >= input.Disks.Count
            ? ServiceResult<VirtualMachine>.Fail(ServiceStatus.NotFound, $"The VM has no disk {index} (disks are numbered from 0).")
            : null;

    /// <summary>The seed is listed as the last disk, but it is the cloud-init settings' to make: they say how to change it.</summary>
    private static string SeedIsNotEditable(int index) =>
        $"Disk {index} is the cloud-init seed: it is made from the VM's cloud-init settings at each start, read-only. Change those settings, or turn cloud-init off, on the Cloud-init tab or at /cloud-init.";

    /// <summary>Loads the VM, refuses unless it is stopped, edits its definition and saves it from the stamp it was read with.</summary>
    private async Task<ServiceResult<VirtualMachine>> ChangeAsync(Guid vmId, string what,
        Func<VirtualMachine, VmDefinitionInput, ServiceResult<VirtualMachine>?> edit, Authorize authorize, CancellationToken cancellationToken)
    {
        var vm = await vms.FindAsync(vmId, cancellationToken);
        if (vm is null)
        {
            return ServiceResult<VirtualMachine>.Fail(ServiceStatus.NotFound, "There is no such VM; it may have been deleted.");
        }

        var state = runtime.GetState(vmId);
        if (state is not (VmPowerState.Stopped or VmPowerState.Crashed))
        {
            return ServiceResult<VirtualMachine>.Fail(ServiceStatus.Conflict,
                $"{vm.Name} is {state.ToString().ToLowerInvariant()}; stop it to {what} (the VMM reads its disks when it starts).");
        }

        var input = VmDefinitionInput.From(vm);
        if (edit(vm, input) is { } refused)
        {
            return refused;
        }

        if (await authorize(input, vm) is { } forbidden)
        {
            return ServiceResult<VirtualMachine>.Fail(ServiceStatus.Forbidden, forbidden);
        }

        return await vms.UpdateAsync(vmId, input, vm.ConcurrencyStamp, cancellationToken);
    }

    private Task LogAsync(VirtualMachine vm, string kind, VmEventResult result, string message, CancellationToken cancellationToken) =>
        events.AddAsync(new VmEvent { VmId = vm.Id, VmName = vm.Name, Kind = kind, Result = result, Message = message }, cancellationToken);
}
