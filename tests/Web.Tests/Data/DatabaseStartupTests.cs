using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Web.Data;
using Platform.Web.Services.Database;

namespace Platform.Web.Tests.Data;

// A damaged database stops the start with a message that names the file, the fault and the way out; backups are
// taken with SQLite's backup API before a migration and on demand, pruned after 7 days, and restore puts one back.
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DatabaseStartupTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("platform-dbstart-").FullName;
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    private string DbPath => Path.Combine(_folder, "platform.db");

    private DatabaseBackups Backups => new(DbPath, TimeProvider.System);

    private PooledFactory Factory() => new(new DbContextOptionsBuilder<PlatformDbContext>()
        .UseSqlite($"Data Source={DbPath};Pooling=False").Options);

    private Task StartAsync() => DatabaseStartup.MigrateAsync(Factory(), Backups, NullLogger.Instance, _ct);

    private async Task AddUserAsync(string name)
    {
        await using var db = await Factory().CreateDbContextAsync(_ct);
        db.Users.Add(new PlatformUser { UserName = name, NormalizedUserName = name.ToUpperInvariant() });
        await db.SaveChangesAsync(_ct);
    }

    private async Task<List<string?>> UserNamesAsync()
    {
        await using var db = await Factory().CreateDbContextAsync(_ct);
        return await db.Users.Select(u => u.UserName).ToListAsync(_ct);
    }

    [Fact]
    public async Task A_file_that_is_no_database_is_named_with_the_fault_and_the_way_out()
    {
        await File.WriteAllTextAsync(DbPath, new string('x', 8192), _ct);

        var start = () => StartAsync();

        var error = (await start.Should().ThrowAsync<DatabaseDamagedException>()).Which;
        error.Message.Should().Contain(DbPath).And.Contain("is damaged").And.Contain("file is not a database").And.Contain("SQLite error 26")
            .And.Contain("There is no backup to restore").And.Contain("move " + DbPath);
        error.Message.Should().NotContain("   at ", "the message is for people, not a stack trace");
    }

    [Fact]
    public async Task A_damaged_database_with_a_backup_is_restored_by_the_command_and_starts_again()
    {
        await StartAsync();
        await AddUserAsync("before-backup");
        var backup = Backups.Take("daily");
        await AddUserAsync("after-backup");
        SqliteConnection.ClearAllPools();
        // Garbage over every page after the first: the header still says SQLite, the tables do not.
        await using (var file = new FileStream(DbPath, FileMode.Open, FileAccess.Write))
        {
            file.Position = 4096;
            await file.WriteAsync(System.Security.Cryptography.RandomNumberGenerator.GetBytes((int)file.Length - 4096), _ct);
        }

        File.Delete(DbPath + "-wal");
        var error = (await ((Func<Task>)StartAsync).Should().ThrowAsync<DatabaseDamagedException>()).Which;
        error.Message.Should().Contain(DbPath).And.Contain("./platform restore-db").And.Contain(backup.FileName);

        var output = new StringWriter();
        int code = DatabaseRestoreCommand.Run([$"--Platform:DataDirectory={_folder}"], output, new StringWriter());

        code.Should().Be(0, output.ToString());
        output.ToString().Should().Contain($"Restored {DbPath} from {backup.Path}").And.Contain(".damaged-");
        Directory.GetFiles(_folder, "platform.db.damaged-*").Should().NotBeEmpty("the damaged file is kept");
        await StartAsync();
        (await UserNamesAsync()).Should().Contain("before-backup").And.NotContain("after-backup");
    }

    [Fact]
    public async Task A_migration_is_preceded_by_a_backup_of_the_database_as_it_was()
    {
        // A database one migration behind, as after an upgrade of the dashboard.
        await using (var db = await Factory().CreateDbContextAsync(_ct))
        {
            var migrations = db.Database.GetMigrations().ToList();
            await db.GetService<IMigrator>().MigrateAsync(migrations[^2], _ct);
        }

        await AddUserAsync("old-user");
        await StartAsync();

        var backup = Backups.List().Should().ContainSingle().Which;
        backup.Reason.Should().Be("before-migration");
        File.GetUnixFileMode(backup.Path).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await using var copy = new SqliteConnection($"Data Source={backup.Path};Pooling=False");
        await copy.OpenAsync(_ct);
        await using var query = copy.CreateCommand();
        query.CommandText = "SELECT COUNT(*) FROM __EFMigrationsHistory";
        long applied = (long)(await query.ExecuteScalarAsync(_ct))!;
        await using var db2 = await Factory().CreateDbContextAsync(_ct);
        applied.Should().Be(db2.Database.GetMigrations().Count() - 1, "the copy is the database before the migration");

        await StartAsync();
        Backups.List().Should().ContainSingle("a start with nothing to migrate takes no backup");
    }

    [Fact]
    public async Task Backups_older_than_a_week_are_removed_but_the_newest_stays()
    {
        await StartAsync();
        Directory.CreateDirectory(Backups.Folder);
        string old = Path.Combine(Backups.Folder, "platform-20200101T000000Z-daily.db");
        string recent = Path.Combine(Backups.Folder, $"platform-{DateTimeOffset.UtcNow.AddDays(-6):yyyyMMdd'T'HHmmss'Z'}-daily.db");
        await File.WriteAllTextAsync(old, "", _ct);
        await File.WriteAllTextAsync(recent, "", _ct);

        Backups.Take("daily");

        File.Exists(old).Should().BeFalse();
        File.Exists(recent).Should().BeTrue();
        Backups.List().Should().HaveCount(2);
    }

    private sealed class PooledFactory(DbContextOptions<PlatformDbContext> options) : IDbContextFactory<PlatformDbContext>
    {
        public PlatformDbContext CreateDbContext() => new(options);

        public Task<PlatformDbContext> CreateDbContextAsync(CancellationToken cancellationToken = default) => Task.FromResult(CreateDbContext());
    }
}
