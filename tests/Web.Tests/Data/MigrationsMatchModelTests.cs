using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Platform.Web.Data;
using Platform.Web.Data.PostgreSql;

namespace Platform.Web.Tests.Data;

/// <summary>
/// The model and each provider's migrations agree: a change to an entity that lacks its migration (or, after branches
/// merge, a migration made for SQLite but not for PostgreSQL) would start a database without the new columns and fail
/// at the first query. Comparing the model with each migration set's snapshot needs no server. Each context comes from
/// the factory <c>dotnet ef</c> uses, so its provider is the one migrations are added with.
/// </summary>
public sealed class MigrationsMatchModelTests
{
    [Fact]
    public void The_sqlite_migrations_hold_every_model_change()
    {
        using var db = ((IDesignTimeDbContextFactory<PlatformDbContext>)new DesignTimeDbContextFactory()).CreateDbContext([]);
        db.Database.IsSqlite().Should().BeTrue("SQLite's migrations are made with SQLite's context");
        db.Database.HasPendingModelChanges().Should().BeFalse(
            "a model change needs `dotnet ef migrations add NAME --context PlatformDbContext` (Data/Migrations)");
    }

    [Fact]
    public void The_postgresql_migrations_hold_every_model_change()
    {
        using var db = ((IDesignTimeDbContextFactory<PostgreSqlPlatformDbContext>)new DesignTimeDbContextFactory()).CreateDbContext([]);
        db.Database.IsNpgsql().Should().BeTrue();
        db.Database.HasPendingModelChanges().Should().BeFalse(
            "a model change needs a PostgreSQL migration too (Data/PostgreSql/Migrations, see PostgreSqlPlatformDbContext)");
    }
}
