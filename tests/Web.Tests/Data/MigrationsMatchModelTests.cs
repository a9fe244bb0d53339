using Microsoft.EntityFrameworkCore;
using Platform.Web.Data;
using Platform.Web.Data.PostgreSql;

namespace Platform.Web.Tests.Data;

/// <summary>
/// The model and each provider's migrations agree: a change to an entity that lacks its migration (or, after branches
/// merge, a migration made for SQLite but not for PostgreSQL) would start a database without the new columns and fail
/// at the first query. Comparing the model with each migration set's snapshot needs no server.
/// </summary>
public sealed class MigrationsMatchModelTests
{
    [Fact]
    public void The_sqlite_migrations_hold_every_model_change()
    {
        using var db = new PlatformDbContext(new DbContextOptionsBuilder<PlatformDbContext>()
            .UseSqlite("Data Source=:memory:").Options);
        db.Database.HasPendingModelChanges().Should().BeFalse(
            "a model change needs `dotnet ef migrations add NAME --context PlatformDbContext` (Data/Migrations)");
    }

    [Fact]
    public void The_postgresql_migrations_hold_every_model_change()
    {
        using var db = new PostgreSqlPlatformDbContext(new DbContextOptionsBuilder<PostgreSqlPlatformDbContext>()
            .UseNpgsql("Host=localhost;Database=platform").Options);
        db.Database.HasPendingModelChanges().Should().BeFalse(
            "a model change needs a PostgreSQL migration too (Data/PostgreSql/Migrations, see PostgreSqlPlatformDbContext)");
    }
}
