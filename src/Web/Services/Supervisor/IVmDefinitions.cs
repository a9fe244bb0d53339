using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Platform.Web.Data;

namespace Platform.Web.Services.Supervisor;

/// <summary>What the supervisor reads of stored VMs; a seam so its tests need no database.</summary>
internal interface IVmDefinitions
{
    /// <summary>The VM with its images, disks and NICs; null when it no longer exists.</summary>
    Task<VirtualMachine?> LoadAsync(Guid vmId, CancellationToken cancellationToken);

    /// <summary>The VM's on-crash policy as stored now (it can change while the VM runs); Stay when it cannot be read.</summary>
    Task<CrashPolicy> CrashPolicyOfAsync(Guid vmId, CancellationToken cancellationToken);

    /// <summary>Every VM, without its related rows.</summary>
    Task<IReadOnlyList<VirtualMachine>> ListAsync(CancellationToken cancellationToken);
}

internal sealed class DatabaseVmDefinitions(IDbContextFactory<PlatformDbContext> dbFactory) : IVmDefinitions
{
    public async Task<VirtualMachine?> LoadAsync(Guid vmId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.VirtualMachines.AsNoTracking()
            .Include(vm => vm.KernelImage).Include(vm => vm.InitrdImage).Include(vm => vm.CdromImage)
            .Include(vm => vm.Disks).ThenInclude(d => d.Image)
            .FirstOrDefaultAsync(vm => vm.Id == vmId, cancellationToken);
    }

    public async Task<CrashPolicy> CrashPolicyOfAsync(Guid vmId, CancellationToken cancellationToken)
    {
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            return await db.VirtualMachines.IgnoreAutoIncludes().Where(vm => vm.Id == vmId).Select(vm => (CrashPolicy?)vm.OnCrash)
                .FirstOrDefaultAsync(cancellationToken) ?? CrashPolicy.Stay;
        }
        catch (Exception ex) when (ex is DbException or InvalidOperationException or ObjectDisposedException or OperationCanceledException)
        {
            return CrashPolicy.Stay;
        }
    }

    public async Task<IReadOnlyList<VirtualMachine>> ListAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.VirtualMachines.AsNoTracking().IgnoreAutoIncludes().ToListAsync(cancellationToken);
    }
}
