using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace Platform.Web.Data;

/// <summary>
/// The control plane's database (SQLite by default), with ASP.NET Core Identity's user tables (users, claims,
/// logins, tokens; no Identity roles: access is by our roles and grants). A cluster's database is PostgreSQL, through
/// the subclass <see cref="PostgreSql.PostgreSqlPlatformDbContext"/>, which has migrations of its own.
/// Add a migration with: <c>dotnet tool restore</c>, then
/// <c>dotnet dotnet-ef migrations add NAME --project src/Web --context PlatformDbContext --output-dir Data/Migrations</c>
/// (the context must be named now that there are two), and one for PostgreSQL as <see cref="PostgreSql.PostgreSqlPlatformDbContext"/> says.
/// </summary>
public class PlatformDbContext : IdentityUserContext<PlatformUser>, IDataProtectionKeyContext
{
    public PlatformDbContext(DbContextOptions<PlatformDbContext> options)
        : base(options)
    {
    }

    /// <summary>For a provider's subclass, whose options are typed by the subclass.</summary>
    protected PlatformDbContext(DbContextOptions options)
        : base(options)
    {
    }

    public DbSet<VirtualMachine> VirtualMachines => Set<VirtualMachine>();

    /// <summary>
    /// ASP.NET Core's data-protection key ring (what signs cookies, antiforgery tokens and console tickets): in the
    /// database, so every dashboard of a cluster reads the same keys and a restored backup keeps its sessions.
    /// </summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public DbSet<VmDisk> VmDisks => Set<VmDisk>();

    public DbSet<VmNic> VmNics => Set<VmNic>();

    public DbSet<Network> Networks => Set<Network>();

    public DbSet<ImageFile> Images => Set<ImageFile>();

    public DbSet<VmEvent> VmEvents => Set<VmEvent>();

    public DbSet<VmSnapshot> VmSnapshots => Set<VmSnapshot>();

    public DbSet<TaskEntry> Tasks => Set<TaskEntry>();

    public DbSet<VmCloudInit> VmCloudInits => Set<VmCloudInit>();

    public DbSet<AccessRole> AccessRoles => Set<AccessRole>();

    public DbSet<AccessGroup> AccessGroups => Set<AccessGroup>();

    public DbSet<AccessGroupMember> AccessGroupMembers => Set<AccessGroupMember>();

    public DbSet<AccessGrant> AccessGrants => Set<AccessGrant>();

    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();

    public DbSet<AuditEntry> AuditLog => Set<AuditEntry>();

    public DbSet<SignInSession> SignInSessions => Set<SignInSession>();

    public DbSet<ResourceQuota> ResourceQuotas => Set<ResourceQuota>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(PlatformDbContext).Assembly);
    }
}
