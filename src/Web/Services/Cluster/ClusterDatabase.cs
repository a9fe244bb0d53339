using Microsoft.EntityFrameworkCore;
using Npgsql;
using Platform.Web.Data;

namespace Platform.Web.Services.Cluster;

/// <summary>
/// Makes the cluster's PostgreSQL database ready at start, from empty if need be: the dashboard's tables by its
/// PostgreSQL migrations, then Orleans' (<see cref="ClusterSchema"/>), before the silo starts. Hosts starting together are safe: EF Core holds an advisory lock while it migrates, so one
/// migrates and the others find the work done.
/// </summary>
public static class ClusterDatabase
{
    /// <exception cref="ClusterDatabaseUnavailableException">The server cannot be reached or refuses us.</exception>
    public static async Task MigrateAsync(IDbContextFactory<PlatformDbContext> factory, ClusterSettings cluster, CancellationToken cancellationToken)
    {
        try
        {
            await using var db = await factory.CreateDbContextAsync(cancellationToken);
            await db.Database.MigrateAsync(cancellationToken);
            await ClusterSchema.EnsureAsync(cluster.ConnectionString!, cancellationToken);
        }
        catch (NpgsqlException ex)
        {
            throw new ClusterDatabaseUnavailableException(cluster, ex);
        }
    }
}

/// <summary>The cluster's database cannot be used; the message names the server and database, and the way on.</summary>
public sealed class ClusterDatabaseUnavailableException(ClusterSettings cluster, Exception inner)
    : Exception(Describe(cluster, inner), inner)
{
    private static string Describe(ClusterSettings cluster, Exception inner)
    {
        var where = new NpgsqlConnectionStringBuilder(cluster.ConnectionString);
        return $"""
                The cluster's database (PostgreSQL at {where.Host}:{where.Port}, database {where.Database ?? "(default)"}) cannot be used: {inner.Message}
                Check that the server runs and that {ClusterSettings.Section}:ConnectionString names it, a database that exists
                and a user who may create tables in it; or remove {ClusterSettings.Section}:ConnectionString to run as a single host.
                """;
    }
}
