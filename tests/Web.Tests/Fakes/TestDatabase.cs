using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Web.Data;
using Platform.Web.Extensions;
using Platform.Web.Security;
using Platform.Web.Services.Disks;
using Platform.Web.Services.Images;
using Platform.Web.Services.Networks;
using Platform.Web.Services.Tasks;
using Platform.Web.Services.Vms;

namespace Platform.Web.Tests.Fakes;

/// <summary>
/// A migrated SQLite file in a throw-away data folder, with the services built on it as the app builds them
/// (the runtime and the host faked). For tests of services without a web host.
/// </summary>
public sealed class TestDatabase : IDisposable
{
    public TestDatabase()
    {
        DataDirectory = Directory.CreateTempSubdirectory("platform-db-test-").FullName;
        Options = new PlatformOptions { DataDirectory = DataDirectory };
        var dbOptions = new DbContextOptionsBuilder<PlatformDbContext>()
            .UseSqlite($"Data Source={Path.Combine(DataDirectory, "platform.db")};Pooling=False")
            .AddInterceptors(new SqlitePragmaInterceptor(), Commands)
            .Options;
        Factory = new ContextFactory(dbOptions);
        using (var db = Factory.CreateDbContext())
        {
            db.Database.Migrate();
        }

        Permissions = new PermissionService(Factory, NullLogger<PermissionService>.Instance);
        Audit = new AuditLog(Factory, NullLogger<AuditLog>.Instance);
        AdminId = AddUser("admin", (BuiltInRoles.AdministratorId, null));
        Events = new VmEventLog(Factory, NullLogger<VmEventLog>.Instance);
        Tasks = new TaskLog(Factory, TimeProvider.System, NullLogger<TaskLog>.Instance, new Platform.Web.Services.Cluster.ClusterSettings());
        DiskFiles = new VmDiskFiles(Options, new DiskImageTool(), NullLogger<VmDiskFiles>.Instance);
        Quotas = new Platform.Web.Services.Quotas.QuotaService(Factory, DiskFiles);
        Images = new ImageLibrary(Factory, Options, Tasks, NullLogger<ImageLibrary>.Instance, Quotas);
        Vms = new VmService(Factory, Host, Runtime, Events, Images, DiskFiles, Tasks, quotas: Quotas);
        Power = new VmPowerService(Factory, Runtime, Events, Tasks);
        Networks = new NetworkService(Factory, Bridges, Audit);
    }

    /// <summary>Every query the services sent, in order (tests clear it before the part they count).</summary>
    public RecordingCommandInterceptor Commands { get; } = new();

    /// <summary>The host bridges the network service sees; tests set them.</summary>
    public FakeHostBridges Bridges { get; } = new();

    public NetworkService Networks { get; }

    public string DataDirectory { get; }

    public PlatformOptions Options { get; }

    public IDbContextFactory<PlatformDbContext> Factory { get; }

    public FixedHostInfo Host { get; } = new();

    public RecordingVmRuntime Runtime { get; } = new();

    public IVmEventLog Events { get; }

    /// <summary>The task log the services write to.</summary>
    public ITaskLog Tasks { get; }

    public ImageLibrary Images { get; }

    public VmService Vms { get; }

    public Platform.Web.Services.Quotas.QuotaService Quotas { get; }

    public VmDiskFiles DiskFiles { get; }

    public VmPowerService Power { get; }

    public IPermissionService Permissions { get; }

    public IAuditLog Audit { get; }

    /// <summary>A user with Administrator on <c>/</c>, made with the database.</summary>
    public string AdminId { get; }

    /// <summary>Adds a user (no password: these tests do not sign in) with grants; a null VM is <c>/</c>.</summary>
    public string AddUser(string name, params (Guid RoleId, Guid? VmId)[] grants)
    {
        using var db = Factory.CreateDbContext();
        var user = new PlatformUser { UserName = name, NormalizedUserName = name.ToUpperInvariant(), SecurityStamp = Guid.NewGuid().ToString() };
        db.Users.Add(user);
        foreach (var (roleId, vmId) in grants)
        {
            db.AccessGrants.Add(new AccessGrant { UserId = user.Id, RoleId = roleId, VmId = vmId });
        }

        db.SaveChanges();
        Permissions.Invalidate();
        return user.Id;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private sealed class ContextFactory(DbContextOptions<PlatformDbContext> options) : IDbContextFactory<PlatformDbContext>
    {
        public PlatformDbContext CreateDbContext() => new(options);
    }
}
