using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Web.Data;
using Platform.Web.Extensions;
using Platform.Web.Services.Images;
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
            .AddInterceptors(new SqlitePragmaInterceptor())
            .Options;
        Factory = new ContextFactory(dbOptions);
        using (var db = Factory.CreateDbContext())
        {
            db.Database.Migrate();
        }

        Events = new VmEventLog(Factory, NullLogger<VmEventLog>.Instance);
        Images = new ImageLibrary(Factory, Options, NullLogger<ImageLibrary>.Instance);
        Vms = new VmService(Factory, Host, Runtime, Events, Images);
        Power = new VmPowerService(Factory, Runtime, Events);
    }

    public string DataDirectory { get; }

    public PlatformOptions Options { get; }

    public IDbContextFactory<PlatformDbContext> Factory { get; }

    public FixedHostInfo Host { get; } = new();

    public RecordingVmRuntime Runtime { get; } = new();

    public IVmEventLog Events { get; }

    public ImageLibrary Images { get; }

    public VmService Vms { get; }

    public VmPowerService Power { get; }

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
