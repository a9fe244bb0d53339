using Microsoft.EntityFrameworkCore;

namespace Platform.Web.Data.PostgreSql;

/// <summary>
/// The dashboard's database on PostgreSQL (a cluster's shared database, docs/cluster.md): the same model as
/// <see cref="PlatformDbContext"/>, with migrations of its own in <c>Data/PostgreSql/Migrations</c>, found by this
/// type (EF Core keeps one migration set per context type); SQLite's stay in <c>Data/Migrations</c>. The rest of the
/// dashboard sees it as a <see cref="PlatformDbContext"/> (<c>DatabaseServiceExtensions</c>).
/// Add a migration with (after building Web):
/// <c>dotnet ef migrations add NAME --project src/Web --context PostgreSqlPlatformDbContext
/// --output-dir Data/PostgreSql/Migrations --no-build --configuration Release</c>
/// (<see cref="DesignTimeDbContextFactory"/> makes the context; no server is needed).
/// </summary>
public sealed class PostgreSqlPlatformDbContext(DbContextOptions<PostgreSqlPlatformDbContext> options) : PlatformDbContext(options)
{
    /// <summary>
    /// SQLite's NOCASE, which the names' columns ask for (VM, network, role, group and image names: unique without
    /// regard to case), made on PostgreSQL as an ICU collation of the same name that ignores case
    /// (<c>ks-level2</c>: letters and accents count, case does not). Non-deterministic, so the unique indexes on those
    /// columns compare as SQLite's did.
    /// </summary>
    public const string CaseInsensitiveCollation = "NOCASE";

    protected override void OnModelCreating(ModelBuilder builder)
    {
        builder.HasCollation(CaseInsensitiveCollation, locale: "und-u-ks-level2", provider: "icu", deterministic: false);
        base.OnModelCreating(builder);
    }
}
