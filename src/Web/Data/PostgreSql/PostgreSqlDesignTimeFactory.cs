using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Platform.Web.Data.PostgreSql;

/// <summary>
/// How <c>dotnet ef migrations add … --context PostgreSqlPlatformDbContext</c> makes the context: a single host's
/// configuration registers no PostgreSQL context, and adding a migration connects to no server, so any Npgsql
/// connection string will do.
/// </summary>
internal sealed class PostgreSqlDesignTimeFactory : IDesignTimeDbContextFactory<PostgreSqlPlatformDbContext>
{
    public PostgreSqlPlatformDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgreSqlPlatformDbContext>().UseNpgsql("Host=localhost;Database=platform").Options);
}
