using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Platform.Web.Data.PostgreSql;

namespace Platform.Web.Data;

/// <summary>
/// How <c>dotnet ef migrations add … --context C</c> makes each provider's context; adding a migration connects to no
/// database, so any connection string will do. One class makes both, on purpose: the factory interface is covariant,
/// so EF Core, looking for a factory of <see cref="PlatformDbContext"/>, takes a factory of the PostgreSQL context as
/// one, and SQLite's migrations were generated for PostgreSQL. A class that implements both interfaces explicitly is
/// the factory EF Core finds for either, and answers each with its own provider.
/// </summary>
internal sealed class DesignTimeDbContextFactory
    : IDesignTimeDbContextFactory<PlatformDbContext>, IDesignTimeDbContextFactory<PostgreSqlPlatformDbContext>
{
    PlatformDbContext IDesignTimeDbContextFactory<PlatformDbContext>.CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PlatformDbContext>().UseSqlite("Data Source=design-time.db").Options);

    PostgreSqlPlatformDbContext IDesignTimeDbContextFactory<PostgreSqlPlatformDbContext>.CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgreSqlPlatformDbContext>().UseNpgsql("Host=localhost;Database=platform").Options);
}
