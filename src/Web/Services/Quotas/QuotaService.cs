using Microsoft.EntityFrameworkCore;
using Platform.Web.Data;
using Platform.Web.Services.Disks;
using Platform.Web.Services.Images;

namespace Platform.Web.Services.Quotas;

/// <summary>
/// Quotas per user and per group: what each may own (VMs, vCPUs, memory, disk bytes, image-library bytes), set by
/// administrators, and the check every creation or growth goes through. A VM counts against its owner (who created
/// it), an image against who uploaded it; a group's use is its members' together. A change is refused when it would
/// take the owner, or any group the owner is in, past a maximum; the refusal gives the numbers.
/// </summary>
public sealed class QuotaService(IDbContextFactory<PlatformDbContext> dbFactory, VmDiskFiles diskFiles)
{
    public async Task<IReadOnlyList<QuotaStatus>> ListAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var quotas = await db.ResourceQuotas.AsNoTracking().ToListAsync(cancellationToken);
        var result = new List<QuotaStatus>();
        foreach (var quota in quotas)
        {
            var (name, members) = await HolderAsync(db, quota, cancellationToken);
            result.Add(new QuotaStatus(quota, name, await UsageAsync(db, members, cancellationToken)));
        }

        return [.. result.OrderBy(q => q.Quota.UserId is null).ThenBy(q => q.HolderName, StringComparer.OrdinalIgnoreCase)];
    }

    /// <summary>
    /// Every user and every group, with its quota (or none) and what it uses now: the administrators' page, where a
    /// quota is set for anyone, not only listed for those who have one. Users first, each part by name.
    /// </summary>
    public async Task<IReadOnlyList<QuotaHolder>> OverviewAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var quotas = await db.ResourceQuotas.AsNoTracking().ToListAsync(cancellationToken);
        var users = await db.Users.AsNoTracking().Select(u => new { u.Id, u.UserName }).ToListAsync(cancellationToken);
        var groups = await db.AccessGroups.AsNoTracking().Select(g => new { g.Id, g.Name }).ToListAsync(cancellationToken);
        var members = await db.AccessGroupMembers.AsNoTracking().ToListAsync(cancellationToken);
        var holders = new List<QuotaHolder>();
        foreach (var user in users.OrderBy(u => u.UserName, StringComparer.OrdinalIgnoreCase))
        {
            holders.Add(new QuotaHolder(user.Id, null, user.UserName ?? user.Id, quotas.FirstOrDefault(q => q.UserId == user.Id),
                await UsageAsync(db, [user.Id], cancellationToken)));
        }

        foreach (var group in groups.OrderBy(g => g.Name, StringComparer.OrdinalIgnoreCase))
        {
            var ids = members.Where(m => m.GroupId == group.Id).Select(m => m.UserId).ToList();
            holders.Add(new QuotaHolder(null, group.Id, group.Name, quotas.FirstOrDefault(q => q.GroupId == group.Id), await UsageAsync(db, ids, cancellationToken)));
        }

        return holders;
    }

    /// <summary>Sets (or replaces) the quota of one user or one group.</summary>
    public async Task<ServiceResult<ResourceQuota>> SetAsync(ResourceQuota wanted, CancellationToken cancellationToken)
    {
        var errors = Validate(wanted);
        if (errors.Count > 0)
        {
            return ServiceResult<ResourceQuota>.Invalid(errors);
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        bool exists = wanted.UserId is { } userId
            ? await db.Users.AnyAsync(u => u.Id == userId, cancellationToken)
            : await db.AccessGroups.AnyAsync(g => g.Id == wanted.GroupId, cancellationToken);
        if (!exists)
        {
            return ServiceResult<ResourceQuota>.Fail(ServiceStatus.NotFound, wanted.UserId is not null ? "There is no such user." : "There is no such group.");
        }

        var quota = await db.ResourceQuotas.FirstOrDefaultAsync(q => q.UserId == wanted.UserId && q.GroupId == wanted.GroupId, cancellationToken);
        if (quota is null)
        {
            quota = new ResourceQuota { UserId = wanted.UserId, GroupId = wanted.GroupId };
            db.ResourceQuotas.Add(quota);
        }

        quota.MaxVms = wanted.MaxVms;
        quota.MaxVcpus = wanted.MaxVcpus;
        quota.MaxMemoryMiB = wanted.MaxMemoryMiB;
        quota.MaxDiskBytes = wanted.MaxDiskBytes;
        quota.MaxImageBytes = wanted.MaxImageBytes;
        quota.UpdatedAt = DateTimeOffset.UtcNow;
        await db.SaveChangesAsync(cancellationToken);
        return ServiceResult<ResourceQuota>.Ok(quota);
    }

    public async Task<bool> RemoveAsync(string? userId, Guid? groupId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.ResourceQuotas.Where(q => q.UserId == userId && q.GroupId == groupId).ExecuteDeleteAsync(cancellationToken) > 0;
    }

    public static Dictionary<string, string[]> Validate(ResourceQuota quota)
    {
        var errors = new Dictionary<string, string[]>();
        if ((quota.UserId is null) == (quota.GroupId is null))
        {
            errors["holder"] = ["A quota is for one user or one group."];
        }

        void NotNegative(string key, long? value)
        {
            if (value is < 0)
            {
                errors[key] = [$"A maximum is 0 or more (or none for no limit); got {value}."];
            }
        }

        NotNegative("maxVms", quota.MaxVms);
        NotNegative("maxVcpus", quota.MaxVcpus);
        NotNegative("maxMemoryMiB", quota.MaxMemoryMiB);
        NotNegative("maxDiskBytes", quota.MaxDiskBytes);
        NotNegative("maxImageBytes", quota.MaxImageBytes);
        return errors;
    }

    /// <summary>
    /// Null when <paramref name="ownerId"/> may take <paramref name="demand"/> more (no owner, nothing more, or every
    /// quota that applies has room), else the refusal with the numbers, naming <paramref name="what"/> ("this VM").
    /// </summary>
    public async Task<string?> CheckAsync(string? ownerId, QuotaAmounts demand, string what, CancellationToken cancellationToken)
    {
        if (ownerId is null || demand.IsNone)
        {
            return null;
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var groups = await db.AccessGroupMembers.Where(m => m.UserId == ownerId).Select(m => m.GroupId).ToListAsync(cancellationToken);
        var quotas = await db.ResourceQuotas.AsNoTracking()
            .Where(q => q.UserId == ownerId || (q.GroupId != null && groups.Contains(q.GroupId.Value)))
            .ToListAsync(cancellationToken);
        // The user's own quota first: its refusal reads "you use".
        foreach (var quota in quotas.OrderBy(q => q.UserId is null))
        {
            var (name, members) = await HolderAsync(db, quota, cancellationToken);
            var used = await UsageAsync(db, members, cancellationToken);
            string who = quota.UserId is not null ? "you use" : $"group {name} uses";
            if (Exceeds(quota.MaxVms, used.Vms, demand.Vms) is { } vms)
            {
                return $"Quota exceeded: {who} {used.Vms} of {vms} VMs; {what} needs 1 more.";
            }

            if (Exceeds(quota.MaxVcpus, used.Vcpus, demand.Vcpus) is { } vcpus)
            {
                return $"Quota exceeded: {who} {used.Vcpus} of {vcpus} vCPUs; {what} needs {demand.Vcpus}.";
            }

            if (Exceeds(quota.MaxMemoryMiB, used.MemoryMiB, demand.MemoryMiB) is { } memory)
            {
                return $"Quota exceeded: {who} {Size(used.MemoryMiB << 20)} of {Size(memory << 20)} of memory; {what} needs {Size(demand.MemoryMiB << 20)}.";
            }

            if (Exceeds(quota.MaxDiskBytes, used.DiskBytes, demand.DiskBytes) is { } disk)
            {
                return $"Quota exceeded: {who} {Size(used.DiskBytes)} of {Size(disk)} of disk; {what} needs {Size(demand.DiskBytes)}.";
            }

            if (Exceeds(quota.MaxImageBytes, used.ImageBytes, demand.ImageBytes) is { } images)
            {
                return $"Quota exceeded: {who} {Size(used.ImageBytes)} of {Size(images)} of the image library; {what} needs {Size(demand.ImageBytes)}.";
            }
        }

        return null;
    }

    private static long? Exceeds(long? max, long used, long demand) => max is { } m && demand > 0 && used + demand > m ? m : null;

    private static string Size(long bytes) => ImageLibrary.FormatSize(bytes);

    private static async Task<(string Name, IReadOnlyList<string> Members)> HolderAsync(PlatformDbContext db, ResourceQuota quota, CancellationToken cancellationToken)
    {
        if (quota.UserId is { } userId)
        {
            string name = await db.Users.Where(u => u.Id == userId).Select(u => u.UserName).FirstOrDefaultAsync(cancellationToken) ?? userId;
            return (name, [userId]);
        }

        string group = await db.AccessGroups.Where(g => g.Id == quota.GroupId).Select(g => g.Name).FirstOrDefaultAsync(cancellationToken) ?? "?";
        var members = await db.AccessGroupMembers.Where(m => m.GroupId == quota.GroupId).Select(m => m.UserId).ToListAsync(cancellationToken);
        return (group, members);
    }

    /// <summary>What the users own together: their VMs (vCPUs, memory, their own and linked-clone disks) and uploads.</summary>
    private async Task<QuotaAmounts> UsageAsync(PlatformDbContext db, IReadOnlyList<string> users, CancellationToken cancellationToken)
    {
        var vms = await db.VirtualMachines.AsNoTracking().Include(vm => vm.Disks).ThenInclude(d => d.Image)
            .Where(vm => vm.OwnerId != null && users.Contains(vm.OwnerId)).ToListAsync(cancellationToken);
        long images = await db.Images.Where(i => i.OwnerId != null && users.Contains(i.OwnerId)).SumAsync(i => i.SizeBytes, cancellationToken);
        return new QuotaAmounts(vms.Count, vms.Sum(vm => vm.VcpuCount), vms.Sum(vm => (long)vm.MemoryMiB), vms.SelectMany(vm => vm.Disks).Sum(DiskBytes), images);
    }

    /// <summary>A disk's size as the guest sees it: the VM's own disk file, or a linked clone's base image.</summary>
    public long DiskBytes(VmDisk disk) => disk switch
    {
        { FileName: not null } => DiskVirtualSize.Of(diskFiles.PathOf(disk)),
        { LinkedClone: true, Image: { } image } => image.VirtualSizeBytes ?? image.SizeBytes,
        _ => 0,
    };
}
