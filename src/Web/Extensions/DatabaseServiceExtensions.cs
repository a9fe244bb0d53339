using Microsoft.EntityFrameworkCore;
using Platform.Web.Data;
using Platform.Web.Data.PostgreSql;
using Platform.Web.Services.Cluster;
using Platform.Web.Services.Database;

namespace Platform.Web.Extensions;

/// <summary>
/// The dashboard's database: SQLite in the data folder on a single host (as always), or, when
/// <c>Platform:Cluster:ConnectionString</c> is set, the cluster's PostgreSQL through Npgsql. Either way the rest of the
/// dashboard asks for <c>IDbContextFactory&lt;PlatformDbContext&gt;</c> (or a scoped <see cref="PlatformDbContext"/>)
/// and never knows which.
/// </summary>
public static class DatabaseServiceExtensions
{
    public static void AddPlatformDatabase(this WebApplicationBuilder builder, PlatformOptions options, ClusterSettings cluster)
    {
        if (cluster.IsConfigured)
        {
            AddPostgreSql(builder.Services, cluster.ConnectionString!);
            return;
        }

        string connectionString = PlatformDatabase.ConnectionString(builder.Configuration, options);
        builder.Services.AddDbContextFactory<PlatformDbContext>(db => db.UseSqlite(connectionString).AddInterceptors(new SqlitePragmaInterceptor()));
        if (DatabaseStartup.FileOf(connectionString) is { } databaseFile)
        {
            // Daily and before each migration (DatabaseStartup); listed on the Host page.
            builder.Services.AddSingleton(sp => new DatabaseBackups(databaseFile, sp.GetRequiredService<TimeProvider>()));
            builder.Services.AddHostedService<DatabaseBackupScheduler>();
        }
    }

    /// <summary>
    /// The PostgreSQL context under the base type's names. No file backups: PostgreSQL's own tools (pg_dump, base
    /// backups) are the way for a server every host shares.
    /// </summary>
    private static void AddPostgreSql(IServiceCollection services, string connectionString)
    {
        services.AddDbContextFactory<PostgreSqlPlatformDbContext>(db => db.UseNpgsql(connectionString));
        services.AddSingleton<IDbContextFactory<PlatformDbContext>>(sp =>
            new BaseTypeFactory(sp.GetRequiredService<IDbContextFactory<PostgreSqlPlatformDbContext>>()));
        services.AddScoped<PlatformDbContext>(sp => sp.GetRequiredService<PostgreSqlPlatformDbContext>());
    }

    private sealed class BaseTypeFactory(IDbContextFactory<PostgreSqlPlatformDbContext> inner) : IDbContextFactory<PlatformDbContext>
    {
        public PlatformDbContext CreateDbContext() => inner.CreateDbContext();

        public async Task<PlatformDbContext> CreateDbContextAsync(CancellationToken cancellationToken = default) =>
            await inner.CreateDbContextAsync(cancellationToken);
    }
}
