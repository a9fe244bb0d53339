using Microsoft.EntityFrameworkCore;

namespace Platform.Web.Data;

/// <summary>
/// The control plane's database (SQLite by default).
/// Add a migration with: <c>dotnet tool restore</c>, then
/// <c>dotnet dotnet-ef migrations add NAME --project src/Web --output-dir Data/Migrations</c>.
/// </summary>
public sealed class PlatformDbContext(DbContextOptions<PlatformDbContext> options) : DbContext(options)
{
    public DbSet<VirtualMachine> VirtualMachines => Set<VirtualMachine>();

    public DbSet<VmDisk> VmDisks => Set<VmDisk>();

    public DbSet<VmNic> VmNics => Set<VmNic>();

    public DbSet<ImageFile> Images => Set<ImageFile>();

    public DbSet<VmEvent> VmEvents => Set<VmEvent>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(PlatformDbContext).Assembly);
    }
}
