using Microsoft.EntityFrameworkCore;
using Platform.Web.Data;
using Platform.Web.Services.CloudInit;
using Platform.Web.Services.Disks;
using Platform.Web.Services.Host;
using Platform.Web.Services.Images;
using Platform.Web.Services.Networks;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Tasks;

namespace Platform.Web.Services.Vms;

/// <summary>
/// VM definitions: list, create, edit, delete — with every rule applied in one place, so the wizard and the REST API
/// accept and refuse exactly the same things. Edits carry the concurrency stamp the user started from; a save over
/// someone else's change is refused (Conflict), never merged.
/// </summary>
public sealed partial class VmService(
    IDbContextFactory<PlatformDbContext> dbFactory,
    IHostInfo host,
    IVmRuntime runtime,
    IVmEventLog events,
    ImageLibrary images,
    VmDiskFiles diskFiles,
    ITaskLog tasks,
    Limits.VmCgroups? cgroups = null,
    Quotas.QuotaService? quotas = null,
    Disks.IRunningDiskThrottle? diskThrottle = null,
    Cluster.VmHostChoice? hostChoice = null)
{
    public async Task<IReadOnlyList<VirtualMachine>> ListAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await WithImages(db.VirtualMachines).AsNoTracking().OrderBy(vm => vm.Name).ToListAsync(cancellationToken);
    }

    /// <summary>Every VM as the list shows it (<see cref="VmListItem"/>), by name: one query, the disks only counted.</summary>
    public async Task<IReadOnlyList<VmListItem>> ListItemsAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.VirtualMachines.AsNoTracking().IgnoreAutoIncludes().OrderBy(vm => vm.Name)
            .Select(vm => new VmListItem(vm.Id, vm.Name, vm.Description, vm.VcpuCount, vm.MemoryMiB, vm.Disks.Count))
            .ToListAsync(cancellationToken);
    }

    public async Task<VirtualMachine?> FindAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await WithImages(db.VirtualMachines).AsNoTracking().FirstOrDefaultAsync(vm => vm.Id == id, cancellationToken);
    }

    /// <summary>Every rule, the database's included (unique name, images that exist and are of the right kind, MACs
    /// no other VM uses). Empty when <paramref name="input"/> can be saved.</summary>
    public async Task<IReadOnlyDictionary<string, string[]>> ValidateAsync(VmDefinitionInput input, Guid? existingId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await ValidateAsync(db, input, existingId, cancellationToken);
    }

    /// <param name="ownerId">Who the VM belongs to: its quotas count it (null: no one's).</param>
    /// <param name="templateId">For a linked clone: the template its own disks are overlays of.</param>
    /// <param name="cloudInit">cloud-init settings to copy as they are stored (a clone's: the password stays a hash).</param>
    public async Task<ServiceResult<VirtualMachine>> CreateAsync(VmDefinitionInput input, CancellationToken cancellationToken,
        Guid? templateId = null, VmCloudInit? cloudInit = null, string? ownerId = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var errors = await ValidateAsync(db, input, null, cancellationToken);
        if (errors.Count > 0)
        {
            return ServiceResult<VirtualMachine>.Invalid(errors);
        }

        var (hostName, hostProblem) = hostChoice is null ? (null, null) : await hostChoice.ChooseAsync(input.Host, cancellationToken);
        if (hostProblem is not null)
        {
            return ServiceResult<VirtualMachine>.Invalid(new Dictionary<string, string[]> { ["host"] = [hostProblem] });
        }

        var demand = new Quotas.QuotaAmounts(1, input.VcpuCount, input.MemoryMiB, await NewDiskBytesAsync(db, input, null, cancellationToken));
        if (quotas is not null && await quotas.CheckAsync(ownerId, demand, "this VM", cancellationToken) is { } refused)
        {
            return ServiceResult<VirtualMachine>.Fail(ServiceStatus.Forbidden, refused);
        }

        var vm = new VirtualMachine { Name = input.Name, TemplateId = templateId, OwnerId = ownerId, HostName = hostName };
        db.VirtualMachines.Add(vm);
        var plan = await ApplyAsync(db, vm, input, cancellationToken);
        if (cloudInit is not null && input.CloudInit is null)
        {
            vm.CloudInit = new VmCloudInit
            {
                VirtualMachineId = vm.Id, Enabled = cloudInit.Enabled, Hostname = null, UserName = cloudInit.UserName,
                PasswordHash = cloudInit.PasswordHash, SshAuthorizedKeys = cloudInit.SshAuthorizedKeys, Packages = cloudInit.Packages, UserData = cloudInit.UserData,
                // Not the static addresses: the copy would take the same ones, and two guests would fight over them.
            };
            db.VmCloudInits.Add(vm.CloudInit);
        }

        if (await SaveWithDisksAsync(db, input, plan, cancellationToken) is { } failure)
        {
            return failure;
        }

        await events.AddAsync(new VmEvent
        {
            VmId = vm.Id, VmName = vm.Name, Kind = VmEventKinds.Created, Result = VmEventResult.Succeeded,
            Message = $"Created {vm.Name}: {Describe(vm)}.",
        }, cancellationToken);
        return ServiceResult<VirtualMachine>.Ok((await FindAsync(vm.Id, cancellationToken))!);
    }

    /// <summary>Saves <paramref name="input"/> over the VM if it still has <paramref name="expectedStamp"/>.</summary>
    public async Task<ServiceResult<VirtualMachine>> UpdateAsync(Guid id, VmDefinitionInput input, Guid expectedStamp, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var vm = await db.VirtualMachines.FirstOrDefaultAsync(v => v.Id == id, cancellationToken);
        if (vm is null)
        {
            return ServiceResult<VirtualMachine>.Fail(ServiceStatus.NotFound, "There is no such VM; it may have been deleted.");
        }

        if (vm.ConcurrencyStamp != expectedStamp)
        {
            return ServiceResult<VirtualMachine>.Fail(ServiceStatus.Conflict, ConflictMessage(vm.Name));
        }

        if (vm.IsTemplate && !SameDisks(vm, input))
        {
            return ServiceResult<VirtualMachine>.Fail(ServiceStatus.Conflict, TemplateDisksMessage(vm.Name));
        }

        var errors = await ValidateAsync(db, input, id, cancellationToken);
        if (errors.Count > 0)
        {
            return ServiceResult<VirtualMachine>.Invalid(errors);
        }

        if (!string.IsNullOrWhiteSpace(input.Host) && !string.Equals(input.Host, vm.HostName ?? hostChoice?.ThisHost, StringComparison.Ordinal))
        {
            return ServiceResult<VirtualMachine>.Invalid(new Dictionary<string, string[]>
            {
                ["host"] = [$"{vm.Name} runs on {vm.HostName ?? hostChoice?.ThisHost ?? "this host"}; moving a VM to another host is not possible yet."],
            });
        }

        // Growing counts against the owner's quotas; shrinking never needs room.
        var growth = new Quotas.QuotaAmounts(0, Math.Max(0, input.VcpuCount - vm.VcpuCount), Math.Max(0, input.MemoryMiB - vm.MemoryMiB),
            await NewDiskBytesAsync(db, input, vm, cancellationToken));
        if (quotas is not null && await quotas.CheckAsync(vm.OwnerId, growth, "this change", cancellationToken) is { } refused)
        {
            return ServiceResult<VirtualMachine>.Fail(ServiceStatus.Forbidden, refused);
        }

        string oldName = vm.Name;
        var diskLimitsBefore = vm.Disks.Select(d => new DiskLimits(d.Id, d.Position, d.MaxBytesPerSecond, d.MaxIops)).ToList();
        var plan = await ApplyAsync(db, vm, input, cancellationToken);
        vm.UpdatedAt = DateTimeOffset.UtcNow;
        // The UPDATE's WHERE carries the stamp the user started from: a save in between makes it match no row.
        db.Entry(vm).Property(v => v.ConcurrencyStamp).OriginalValue = expectedStamp;
        vm.ConcurrencyStamp = Guid.NewGuid();
        try
        {
            if (await SaveWithDisksAsync(db, input, plan, cancellationToken) is { } failure)
            {
                return failure;
            }
        }
        catch (DbUpdateConcurrencyException)
        {
            return ServiceResult<VirtualMachine>.Fail(ServiceStatus.Conflict, ConflictMessage(oldName));
        }

        var saved = (await FindAsync(vm.Id, cancellationToken))!;
        string live = ApplyLimitsLive(vm) + await ApplyDiskLimitsLiveAsync(saved, diskLimitsBefore, cancellationToken);
        await events.AddAsync(new VmEvent
        {
            VmId = vm.Id, VmName = vm.Name, Kind = VmEventKinds.Updated, Result = VmEventResult.Succeeded,
            Message = (oldName == vm.Name ? $"Changed {vm.Name}: {Describe(vm)}." : $"Changed {oldName}, now named {vm.Name}: {Describe(vm)}.") + live,
        }, cancellationToken);
        return ServiceResult<VirtualMachine>.Ok(saved, live.Trim());
    }

    /// <summary>
    /// Deletes a VM that is not running. <paramref name="expectedStamp"/>, when given, must still match. Unless
    /// <paramref name="keepDiskImages"/>, the library disk images it used and no other VM uses are deleted too
    /// (host-path disks, kernels and initrds are always kept). Returns the file names of the images deleted.
    /// </summary>
    public async Task<ServiceResult<IReadOnlyList<string>>> DeleteAsync(Guid id, Guid? expectedStamp, bool keepDiskImages, CancellationToken cancellationToken,
        bool keepOwnDisks = false)
    {
        List<Guid> diskImages;
        List<string> ownDisks;
        bool clones;
        string name;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            var vm = await db.VirtualMachines.FirstOrDefaultAsync(v => v.Id == id, cancellationToken);
            if (vm is null)
            {
                return ServiceResult<IReadOnlyList<string>>.Fail(ServiceStatus.NotFound, "There is no such VM; it may have been deleted already.");
            }

            if (expectedStamp is { } stamp && vm.ConcurrencyStamp != stamp)
            {
                return ServiceResult<IReadOnlyList<string>>.Fail(ServiceStatus.Conflict, ConflictMessage(vm.Name));
            }

            // A VM waiting to be restarted after a crash may go: deleting it cancels the restart (below).
            var state = runtime.GetState(id);
            if (state == VmPowerState.HostUnreachable)
            {
                return ServiceResult<IReadOnlyList<string>>.Fail(ServiceStatus.Unavailable, $"{vm.Name}'s host {vm.HostName} is unreachable: its VMM may still run there. Delete it when the host is back.");
            }

            if (state is not (VmPowerState.Stopped or VmPowerState.Crashed or VmPowerState.Restarting))
            {
                return ServiceResult<IReadOnlyList<string>>.Fail(ServiceStatus.Conflict, $"{vm.Name} is {state.ToString().ToLowerInvariant()}; stop it before deleting it.");
            }

            var linked = await db.VirtualMachines.IgnoreAutoIncludes().Where(v => v.TemplateId == id).Select(v => v.Name).ToListAsync(cancellationToken);
            if (linked.Count > 0)
            {
                return ServiceResult<IReadOnlyList<string>>.Fail(ServiceStatus.Conflict,
                    $"{vm.Name} is the template of {string.Join(", ", linked)}, whose disks are built on its disks: delete them first.");
            }

            name = vm.Name;
            // A linked clone's base is a shared template, not this VM's disk: its overlay is (deleted below).
            diskImages = vm.Disks.Where(d => d.ImageId is not null && !d.LinkedClone).Select(d => d.ImageId!.Value).Distinct().ToList();
            clones = vm.Disks.Any(d => d.LinkedClone);
            ownDisks = vm.Disks.Where(d => d.FileName is not null).Select(diskFiles.PathOf).ToList();
            // The DELETE's WHERE carries the stamp just read: an edit saved in between makes it match no row.
            db.VirtualMachines.Remove(vm);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateConcurrencyException)
            {
                return ServiceResult<IReadOnlyList<string>>.Fail(ServiceStatus.Conflict, ConflictMessage(name));
            }
        }

        // Gone from the database: nothing may run or restart for it any more (its linked clones are deleted next).
        await runtime.ForgetAsync(id, CancellationToken.None);
        diskFiles.Delete(CloudInitService.SeedFilesIn(diskFiles.FolderOf(id)).Where(File.Exists));
        var deleted = new List<string>();
        var kept = new List<string>();
        if (!keepDiskImages)
        {
            foreach (var imageId in diskImages)
            {
                var image = await images.FindAsync(imageId, cancellationToken);
                if (image is null)
                {
                    continue;
                }

                var result = await images.DeleteAsync(imageId, cancellationToken);
                (result.Succeeded ? deleted : kept).Add(image.Image.FileName);
            }

            images.DeleteLinkedClones(id);
        }

        if (!keepOwnDisks)
        {
            diskFiles.Delete(ownDisks);
        }

        string message = $"Deleted {name}." + (keepDiskImages && (diskImages.Count > 0 || clones) ? " Its disk images were kept." : "")
            + (ownDisks.Count == 0 ? "" : keepOwnDisks ? $" Kept its own disk{(ownDisks.Count == 1 ? "" : "s")} {string.Join(", ", ownDisks)}." : $" Deleted its own disk{(ownDisks.Count == 1 ? "" : "s")}.")
            + (!keepDiskImages && clones ? " Deleted its linked clones." : "")
            + (deleted.Count > 0 ? $" Deleted its disk images {string.Join(", ", deleted)}." : "")
            + (kept.Count > 0 ? $" Kept {string.Join(", ", kept)}: other VMs use them." : "");
        await events.AddAsync(new VmEvent { VmId = id, VmName = name, Kind = VmEventKinds.Deleted, Result = VmEventResult.Succeeded, Message = message }, cancellationToken);
        return ServiceResult<IReadOnlyList<string>>.Ok(deleted);
    }

    /// <summary>
    /// Makes a stopped VM a template (never started; its disks never change) or an ordinary VM again, which is refused
    /// while linked clones are built on its disks.
    /// </summary>
    public async Task<ServiceResult<VirtualMachine>> SetTemplateAsync(Guid id, bool isTemplate, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var vm = await db.VirtualMachines.FirstOrDefaultAsync(v => v.Id == id, cancellationToken);
        if (vm is null)
        {
            return ServiceResult<VirtualMachine>.Fail(ServiceStatus.NotFound, "There is no such VM; it may have been deleted.");
        }

        var state = runtime.GetState(id);
        if (state is not (VmPowerState.Stopped or VmPowerState.Crashed))
        {
            return ServiceResult<VirtualMachine>.Fail(ServiceStatus.Conflict, $"{vm.Name} is {state.ToString().ToLowerInvariant()}; stop it first.");
        }

        if (!isTemplate && vm.IsTemplate)
        {
            var clones = await db.VirtualMachines.IgnoreAutoIncludes().Where(v => v.TemplateId == id).Select(v => v.Name).ToListAsync(cancellationToken);
            if (clones.Count > 0)
            {
                return ServiceResult<VirtualMachine>.Fail(ServiceStatus.Conflict,
                    $"{string.Join(", ", clones)} {(clones.Count == 1 ? "is a linked clone" : "are linked clones")} of {vm.Name}, whose disks must not change: it stays a template while they exist.");
            }
        }

        if (vm.IsTemplate != isTemplate)
        {
            vm.IsTemplate = isTemplate;
            vm.Autostart &= !isTemplate;
            vm.UpdatedAt = DateTimeOffset.UtcNow;
            vm.ConcurrencyStamp = Guid.NewGuid();
            await db.SaveChangesAsync(cancellationToken);
            await events.AddAsync(new VmEvent
            {
                VmId = vm.Id, VmName = vm.Name, Kind = VmEventKinds.Template, Result = VmEventResult.Succeeded,
                Message = isTemplate ? $"Made {vm.Name} a template." : $"Made {vm.Name} an ordinary VM again.",
            }, cancellationToken);
        }

        return ServiceResult<VirtualMachine>.Ok((await FindAsync(id, cancellationToken))!);
    }

    public static string TemplateDisksMessage(string name) =>
        $"{name} is a template: its disks do not change while it is one (linked clones are built on them). Make it an ordinary VM first.";

    /// <summary>Whether <paramref name="input"/> keeps the VM's disks as they are: the same ones, in order, with the same flags.</summary>
    private static bool SameDisks(VirtualMachine vm, VmDefinitionInput input)
    {
        var current = vm.Disks.OrderBy(d => d.Position).ToList();
        return current.Count == input.Disks.Count && current.Zip(input.Disks).All(p =>
            p.Second.Blank is null && p.Second.Adopt is null && (p.Second.Id is null || p.Second.Id == p.First.Id)
            && p.Second.ImageId == p.First.ImageId && (p.First.FileName is not null || p.Second.Path == p.First.Path)
            && p.Second.ReadOnly == p.First.ReadOnly && (p.First.ImageId is null || p.Second.LinkedClone == p.First.LinkedClone));
    }

    public static string Describe(VirtualMachine vm) =>
        $"{vm.VcpuCount} vCPU{(vm.VcpuCount == 1 ? "" : "s")}, {vm.MemoryMiB} MiB, {vm.Disks.Count} disk{(vm.Disks.Count == 1 ? "" : "s")}, " +
        $"{vm.Nics.Count} NIC{(vm.Nics.Count == 1 ? "" : "s")}" + (vm.HasCdrom ? ", a CD-ROM drive" : "");

    private static string ConflictMessage(string name) =>
        $"{name} was changed by someone else since you loaded it. Reload to see the current settings, then make your change again.";

    private static IQueryable<VirtualMachine> WithImages(IQueryable<VirtualMachine> query) => query
        .Include(vm => vm.KernelImage)
        .Include(vm => vm.InitrdImage)
        .Include(vm => vm.CdromImage)
        .Include(vm => vm.Disks.OrderBy(d => d.Position)).ThenInclude(d => d.Image)
        .Include(vm => vm.Nics.OrderBy(n => n.Position))
        .AsSplitQuery();

    private async Task<IReadOnlyDictionary<string, string[]>> ValidateAsync(PlatformDbContext db, VmDefinitionInput input, Guid? existingId, CancellationToken cancellationToken)
    {
        // GET lists the cloud-init seed as the last disk; sent back, it is not a disk to store (the settings make it).
        input.Disks.RemoveAll(d => d.CloudInitSeed);
        var errors = VmDefinitionRules.Validate(input, host.Read().TotalMemoryMiB);
        void Add(string key, string problem) => errors[key] = errors.TryGetValue(key, out var list) ? [.. list, problem] : [problem];

        if (!errors.ContainsKey("name") &&
            await db.VirtualMachines.IgnoreAutoIncludes().AnyAsync(vm => vm.Name == input.Name && vm.Id != existingId, cancellationToken))
        {
            Add("name", $"A VM named {input.Name} already exists (names ignore case).");
        }

        var wanted = new List<(string Key, Guid Id, ImageKind Kind)>();
        if (input.BootMode == BootMode.Kernel)
        {
            if (input.KernelImageId is { } kernel)
            {
                wanted.Add(("kernel", kernel, ImageKind.Kernel));
            }

            if (input.InitrdImageId is { } initrd)
            {
                wanted.Add(("initrd", initrd, ImageKind.Initrd));
            }
        }

        for (int i = 0; i < input.Disks.Count; i++)
        {
            if (input.Disks[i].ImageId is { } disk)
            {
                wanted.Add(($"disks[{i}]", disk, ImageKind.Disk));
            }
        }

        if (input.Cdrom?.ImageId is { } iso)
        {
            wanted.Add(("cdrom.imageId", iso, ImageKind.Iso));
        }

        if (wanted.Count > 0)
        {
            var ids = wanted.Select(w => w.Id).Distinct().ToList();
            var found = await db.Images.AsNoTracking().Where(i => ids.Contains(i.Id)).ToDictionaryAsync(i => i.Id, cancellationToken);
            foreach (var (key, id, kind) in wanted)
            {
                if (!found.TryGetValue(id, out var image))
                {
                    Add(key, "That image is not in the library (it may have been deleted).");
                }
                else if (image.Kind != kind)
                {
                    Add(key, $"{image.FileName} is {ImageLibrary.Describe(image.Kind)}, not {ImageLibrary.Describe(kind)}.");
                }
            }
        }

        if (input.CloudInit is { } cloudInit)
        {
            bool passwordKept = existingId is { } vmId
                && await db.VmCloudInits.AsNoTracking().AnyAsync(c => c.VirtualMachineId == vmId && c.PasswordHash != null, cancellationToken);
            // Static addresses are checked against the NICs this definition gives the VM, and their networks' subnets.
            var networkIds = input.Nics.Where(n => n.NetworkId is not null).Select(n => n.NetworkId!.Value).Distinct().ToList();
            var subnets = await db.Networks.AsNoTracking().Where(n => networkIds.Contains(n.Id)).ToDictionaryAsync(n => n.Id, cancellationToken);
            var nics = input.Nics.Select((n, i) => CloudInitNicFacts.Of(i, n.NetworkId is { } id ? subnets.GetValueOrDefault(id) : null)).ToList();
            foreach (var (key, problems) in CloudInitRules.Validate(cloudInit, passwordKept, nics))
            {
                foreach (string problem in problems)
                {
                    Add($"cloudInit.{key}", problem);
                }
            }
        }

        await ValidateOwnDisksAsync(db, input, existingId, Add, cancellationToken);
        await ValidateLinkedClonesAsync(db, input, existingId, Add, cancellationToken);
        var macs = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < input.Nics.Count; i++)
        {
            if (!string.IsNullOrWhiteSpace(input.Nics[i].MacAddress) && MacAddresses.Check(input.Nics[i].MacAddress!, out string mac) is null)
            {
                macs[mac] = i;
            }
        }

        await ValidateNetworksAsync(db, input, existingId, Add, cancellationToken);
        if (macs.Count > 0)
        {
            var keys = macs.Keys.ToList();
            var taken = await db.VmNics.AsNoTracking()
                .Where(n => keys.Contains(n.MacAddress) && n.VirtualMachineId != existingId)
                .Join(db.VirtualMachines.IgnoreAutoIncludes(), n => n.VirtualMachineId, vm => vm.Id, (n, vm) => new { n.MacAddress, vm.Name })
                .ToListAsync(cancellationToken);
            foreach (var t in taken)
            {
                Add($"nics[{macs[t.MacAddress]}].macAddress", $"{t.Name} already has a NIC with {t.MacAddress}.");
            }
        }

        return errors;
    }

    /// <summary>
    /// Each NIC's network exists; port forwards are on NAT networks only; and no host end (protocol, address, port) is
    /// forwarded by another VM already, which would leave one of them unable to listen when both run.
    /// </summary>
    private static async Task ValidateNetworksAsync(PlatformDbContext db, VmDefinitionInput input, Guid? existingId,
        Action<string, string> add, CancellationToken cancellationToken)
    {
        var ids = input.Nics.Where(n => n.NetworkId is not null).Select(n => n.NetworkId!.Value).Distinct().ToList();
        var networks = await db.Networks.AsNoTracking().Where(n => ids.Contains(n.Id)).ToDictionaryAsync(n => n.Id, cancellationToken);
        var wanted = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < input.Nics.Count; i++)
        {
            var nic = input.Nics[i];
            if (nic.NetworkId is not { } id)
            {
                continue;
            }

            if (!networks.TryGetValue(id, out var network))
            {
                add($"nics[{i}].networkId", "That network does not exist (it may have been deleted).");
            }
            else if (network.Kind != NetworkKind.Nat && nic.PortForwards.Count > 0)
            {
                add($"nics[{i}].portForwards", $"{network.Name} is a bridge: its guests are reached on their own addresses, without port forwards.");
            }

            for (int j = 0; j < nic.PortForwards.Count; j++)
            {
                if (System.Net.IPAddress.TryParse(nic.PortForwards[j].HostAddress ?? "", out var address))
                {
                    var normalized = new VmPortForward { Protocol = nic.PortForwards[j].Protocol, HostAddress = address.ToString(), HostPort = nic.PortForwards[j].HostPort };
                    wanted.TryAdd(NetworkRules.HostEnd(normalized), $"nics[{i}].portForwards[{j}].hostPort");
                }
            }
        }

        if (wanted.Count == 0)
        {
            return;
        }

        var others = await db.VmNics.AsNoTracking().Where(n => n.VirtualMachineId != existingId && n.NetworkId != null)
            .Join(db.VirtualMachines.IgnoreAutoIncludes(), n => n.VirtualMachineId, vm => vm.Id, (n, vm) => new { n.PortForwards, vm.Name })
            .ToListAsync(cancellationToken);
        foreach (var other in others)
        {
            foreach (var forward in other.PortForwards)
            {
                if (wanted.TryGetValue(NetworkRules.HostEnd(forward), out string? field))
                {
                    add(field, $"{other.Name} forwards {NetworkRules.HostEnd(forward)} already.");
                }
            }
        }
    }

    /// <summary>
    /// Ids name this VM's disks, each once; an id alone names one of its own disks (which stays what it is: detach it to
    /// put something else there); and the new blank disks fit in the data folder's free space, all together.
    /// </summary>
    private async Task ValidateOwnDisksAsync(PlatformDbContext db, VmDefinitionInput input, Guid? existingId,
        Action<string, string> add, CancellationToken cancellationToken)
    {
        var ids = input.Disks.Where(d => d.Id is not null).Select(d => d.Id!.Value).ToList();
        var rows = ids.Count == 0 || existingId is null ? []
            : await db.VmDisks.AsNoTracking().Where(d => d.VirtualMachineId == existingId && ids.Contains(d.Id)).ToDictionaryAsync(d => d.Id, cancellationToken);
        var seen = new HashSet<Guid>();
        for (int i = 0; i < input.Disks.Count; i++)
        {
            var disk = input.Disks[i];
            if (disk.Id is not { } id || disk.Blank is not null)
            {
                continue;
            }

            bool hasSource = disk.ImageId is not null || !string.IsNullOrEmpty(disk.Path);
            if (!rows.TryGetValue(id, out var row))
            {
                add($"disks[{i}].id", "This VM has no disk with that id (it may have been detached).");
            }
            else if (!seen.Add(id))
            {
                add($"disks[{i}].id", "The same disk is listed twice.");
            }
            else if (row.FileName is not null && hasSource)
            {
                add($"disks[{i}]", "This is one of the VM's own disks and stays one: detach it, then attach the image or path as a new disk.");
            }
            else if (row.FileName is null && !hasSource)
            {
                add($"disks[{i}]", "Choose a disk image from the library or give a path on the host.");
            }
        }

        long blanks = input.Disks.Where(d => d.Blank is not null && DiskSizeRules.Check(d.Blank) is null).Sum(d => d.Blank!.SizeBytes);
        int first = input.Disks.FindIndex(d => d.Blank is not null);
        if (blanks > 0 && diskFiles.CheckSpace(blanks) is { } problem)
        {
            add($"disks[{first}].sizeBytes", problem);
        }
    }

    /// <summary>
    /// A linked clone's base must never change under it: an image that is the base of a linked clone (here or in another
    /// VM) may be attached directly only read-only, and an image attached directly writable cannot become a base.
    /// </summary>
    private static async Task ValidateLinkedClonesAsync(PlatformDbContext db, VmDefinitionInput input, Guid? existingId,
        Action<string, string> add, CancellationToken cancellationToken)
    {
        var ids = input.Disks.Where(d => d.ImageId is not null).Select(d => d.ImageId!.Value).Distinct().ToList();
        if (ids.Count == 0)
        {
            return;
        }

        var others = await db.VmDisks.AsNoTracking().Where(d => d.ImageId != null && ids.Contains(d.ImageId.Value) && d.VirtualMachineId != existingId)
            .Join(db.VirtualMachines.IgnoreAutoIncludes(), d => d.VirtualMachineId, vm => vm.Id,
                (d, vm) => new { ImageId = d.ImageId!.Value, d.LinkedClone, d.ReadOnly, vm.Name })
            .ToListAsync(cancellationToken);
        var uses = others.Select(o => (o.ImageId, o.LinkedClone, o.ReadOnly, o.Name))
            .Concat(input.Disks.Where(d => d.ImageId is not null).Select(d => (d.ImageId!.Value, d.LinkedClone, d.ReadOnly, input.Name)))
            .ToList();
        for (int i = 0; i < input.Disks.Count; i++)
        {
            var disk = input.Disks[i];
            if (disk.ImageId is not { } id)
            {
                continue;
            }

            if (disk.LinkedClone)
            {
                var writer = uses.FirstOrDefault(u => u.Item1 == id && !u.Item2 && !u.Item3);
                if (writer.Name is not null)
                {
                    add($"disks[{i}]", $"{(writer.Name == input.Name ? "This VM" : writer.Name)} writes this image directly; a linked clone needs a base that never changes.");
                }
            }
            else if (!disk.ReadOnly)
            {
                var clone = uses.FirstOrDefault(u => u.Item1 == id && u.Item2);
                if (clone.Name is not null)
                {
                    add($"disks[{i}]", $"This image is the base of a linked clone of {(clone.Name == input.Name ? "this VM" : clone.Name)}: attach it read-only or as a linked clone, so it never changes under the clone.");
                }
            }
        }
    }

    /// <summary>Bytes of disk the input adds to the VM: new blank disks, and linked clones it did not have (their image's size).</summary>
    private static async Task<long> NewDiskBytesAsync(PlatformDbContext db, VmDefinitionInput input, VirtualMachine? current, CancellationToken cancellationToken)
    {
        long bytes = input.Disks.Where(d => d.Blank is not null).Sum(d => d.Blank!.SizeBytes)
            // A clone's disks, made before the save: their size as the guest sees it.
            + input.Disks.Where(d => d.Adopt is not null).Sum(d => Quotas.DiskVirtualSize.Of(d.Adopt!.Path));
        var cloned = input.Disks.Where(d => d.ImageId is not null && d.LinkedClone && d.Blank is null
                && current?.Disks.Any(existing => existing.LinkedClone && existing.ImageId == d.ImageId && (d.Id is null || existing.Id == d.Id)) != true)
            .Select(d => d.ImageId!.Value).ToList();
        if (cloned.Count > 0)
        {
            var sizes = await db.Images.Where(i => cloned.Contains(i.Id)).ToDictionaryAsync(i => i.Id, i => i.VirtualSizeBytes ?? i.SizeBytes, cancellationToken);
            bytes += cloned.Sum(id => sizes.GetValueOrDefault(id));
        }

        return bytes;
    }

    /// <summary>
    /// A running VM's cgroup takes its new memory, CPU and task limits at once; the rest of an edit (disk limits
    /// included) applies at its next start. Says which, for the event log.
    /// </summary>
    private string ApplyLimitsLive(VirtualMachine vm)
    {
        try
        {
            return cgroups?.Update(vm) == true ? " Its memory, CPU and task limits apply now; the rest at its next start." : "";
        }
        catch (IOException ex)
        {
            return $" Its new limits could not be applied while it runs ({ex.Message}); they apply at its next start.";
        }
    }

    /// <summary>Copies the input onto the entity, normalized: empty text becomes null, MACs lower-case (generated
    /// when missing), a disk boot drops the kernel fields (the command line stays: extra arguments for the disk's
    /// kernel), disks go by id (see <see cref="ApplyDisks"/>), NICs are updated in place by position.</summary>
    private static async Task<DiskPlan> ApplyAsync(PlatformDbContext db, VirtualMachine vm, VmDefinitionInput input, CancellationToken cancellationToken)
    {
        static string? Text(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

        vm.Name = input.Name;
        vm.Description = Text(input.Description);
        vm.VcpuCount = input.VcpuCount;
        vm.MemoryMiB = input.MemoryMiB;
        vm.CpuLimit = input.CpuLimit;
        vm.CpuUnits = input.CpuUnits;
        vm.PidsLimit = input.PidsLimit;
        vm.BootMode = input.BootMode;
        bool kernelBoot = input.BootMode == BootMode.Kernel;
        bool firmwareBoot = input.BootMode == BootMode.Firmware;
        vm.KernelImageId = kernelBoot ? input.KernelImageId : null;
        vm.KernelPath = kernelBoot ? Text(input.KernelPath) : null;
        vm.InitrdImageId = kernelBoot ? input.InitrdImageId : null;
        vm.InitrdPath = kernelBoot ? Text(input.InitrdPath) : null;
        // The BIOS boots whatever the disk or CD holds, whose boot loader gives the kernel its command line.
        vm.CommandLine = firmwareBoot ? null : Text(input.CommandLine);
        vm.HasCdrom = input.Cdrom is not null;
        vm.CdromImageId = input.Cdrom?.ImageId;
        vm.BootOrder = firmwareBoot ? input.BootOrder?.ToList() : null;
        vm.DisplayEnabled = input.DisplayEnabled;
        vm.Input = input.DisplayEnabled ? input.Input ?? InputKind.Virtio : null;
        vm.Autostart = input.Autostart;
        vm.OnReboot = input.OnReboot;
        vm.OnCrash = input.OnCrash;

        var plan = ApplyDisks(db, vm, input);
        if (input.CloudInit is { } cloudInit)
        {
            if (vm.CloudInit is null)
            {
                // Added explicitly, as new disks are: its key is set, so through the navigation alone it would be UPDATEd.
                vm.CloudInit = new VmCloudInit { VirtualMachineId = vm.Id };
                db.VmCloudInits.Add(vm.CloudInit);
            }

            CloudInitService.Apply(vm.CloudInit, cloudInit);
        }

        var nics = vm.Nics.OrderBy(n => n.Position).ToList();
        for (int i = 0; i < input.Nics.Count; i++)
        {
            string mac = string.IsNullOrWhiteSpace(input.Nics[i].MacAddress)
                ? await UnusedMacAsync(db, cancellationToken)
                : MacAddresses.Check(input.Nics[i].MacAddress!, out string normalized) is null ? normalized : input.Nics[i].MacAddress!;
            string? tap = string.IsNullOrWhiteSpace(input.Nics[i].TapName) ? null : input.Nics[i].TapName!.Trim();
            List<VmPortForward> forwards = [.. input.Nics[i].PortForwards.Select(f => new VmPortForward
            {
                Protocol = f.Protocol, HostAddress = System.Net.IPAddress.Parse(f.HostAddress).ToString(), HostPort = f.HostPort, GuestPort = f.GuestPort,
            })];
            if (i < nics.Count)
            {
                nics[i].NetworkId = input.Nics[i].NetworkId;
                nics[i].TapName = tap;
                nics[i].MacAddress = mac;
                nics[i].PortForwards = forwards;
            }
            else
            {
                var nic = new VmNic { Position = i, NetworkId = input.Nics[i].NetworkId, TapName = tap, MacAddress = mac, PortForwards = forwards };
                vm.Nics.Add(nic);
                db.VmNics.Add(nic);
            }
        }

        foreach (var extra in nics.Skip(input.Nics.Count))
        {
            vm.Nics.Remove(extra);
            db.VmNics.Remove(extra);
        }

        // A removed NIC's static addresses go with it, rather than waiting for a NIC added at its place later.
        vm.CloudInit?.StaticNics.RemoveAll(s => s.Position >= input.Nics.Count);

        return plan;
    }

    private static async Task<string> UnusedMacAsync(PlatformDbContext db, CancellationToken cancellationToken)
    {
        // 2^24 addresses: a collision is rare, but two VMs with one MAC on a bridge is a miserable thing to debug.
        while (true)
        {
            string mac = MacAddresses.Generate();
            bool pending = db.ChangeTracker.Entries<VmNic>().Any(e => e.Entity.MacAddress == mac);
            if (!pending && !await db.VmNics.AnyAsync(n => n.MacAddress == mac, cancellationToken))
            {
                return mac;
            }
        }
    }

    /// <summary>Saves; a unique-name race that slipped past validation comes back as a field error.</summary>
    private static async Task<ServiceResult<VirtualMachine>?> SaveAsync(PlatformDbContext db, VmDefinitionInput input, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return null;
        }
        catch (DbUpdateException ex) when (ex is not DbUpdateConcurrencyException
            && ex.InnerException?.Message.Contains("VirtualMachines.Name", StringComparison.Ordinal) == true)
        {
            return ServiceResult<VirtualMachine>.Invalid(new Dictionary<string, string[]>
            {
                ["name"] = [$"A VM named {input.Name} already exists (names ignore case)."],
            });
        }
    }
}
