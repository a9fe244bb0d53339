using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Platform.Web.Data;

namespace Platform.Web.Services.Database;

/// <summary>
/// Opens the dashboard's database at start: checks it (<c>PRAGMA quick_check</c>), backs it up before a migration
/// changes it, migrates it and switches it to WAL. A damaged file becomes a <see cref="DatabaseDamagedException"/> that
/// names the file, what is wrong and the way out, instead of a stack trace.
/// </summary>
public static partial class DatabaseStartup
{
    /// <summary>SQLite's result codes that mean the file itself is bad: SQLITE_CORRUPT and SQLITE_NOTADB.</summary>
    private static readonly int[] DamageCodes = [11, 26];

    /// <summary>The database file of <paramref name="connectionString"/>; null when it is no file (in memory).</summary>
    public static string? FileOf(string connectionString)
    {
        string source = new SqliteConnectionStringBuilder(connectionString).DataSource;
        return string.IsNullOrEmpty(source) || source == ":memory:" ? null : Path.GetFullPath(source);
    }

    public static async Task MigrateAsync(IDbContextFactory<PlatformDbContext> factory, DatabaseBackups? backups, ILogger logger, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        string path = backups?.DatabasePath ?? FileOf(db.Database.GetConnectionString() ?? "") ?? "the database";
        try
        {
            if (await QuickCheckAsync(db, cancellationToken) is { } problem)
            {
                throw new DatabaseDamagedException(path, problem, backups?.Latest(), backups?.Folder);
            }

            bool pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).Any();
            bool existing = (await db.Database.GetAppliedMigrationsAsync(cancellationToken)).Any();
            if (pending && existing && backups is not null)
            {
                var backup = backups.Take("before-migration");
                Log.BackedUpBeforeMigration(logger, backup.Path);
            }

            await db.Database.MigrateAsync(cancellationToken);
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }
        catch (SqliteException ex) when (DamageCodes.Contains(ex.SqliteErrorCode))
        {
            throw new DatabaseDamagedException(path, $"{ex.Message.TrimEnd('.')} (SQLite error {ex.SqliteErrorCode})",
                backups?.Latest(), backups?.Folder, ex);
        }
    }

    /// <summary>What <c>PRAGMA quick_check</c> finds wrong, or null when it says ok.</summary>
    private static async Task<string?> QuickCheckAsync(PlatformDbContext db, CancellationToken cancellationToken)
    {
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA quick_check(5);";
            var problems = new List<string>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                problems.Add(reader.GetString(0));
            }

            return problems is ["ok"] ? null : "the integrity check found: " + string.Join("; ", problems);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Information, "Backed up the database before migrating it: {Path}")]
        public static partial void BackedUpBeforeMigration(ILogger logger, string path);
    }
}

/// <summary>The database file is damaged; the message is for the person who started the dashboard, in full.</summary>
public sealed class DatabaseDamagedException(string path, string problem, DatabaseBackup? latest, string? backupFolder, Exception? inner = null)
    : Exception(Describe(path, problem, latest, backupFolder), inner)
{
    public string DatabasePath { get; } = path;

    private static string Describe(string path, string problem, DatabaseBackup? latest, string? backupFolder)
    {
        string restore = latest is null
            ? $"There is no backup to restore{(backupFolder is null ? "" : $" in {backupFolder}")}."
            : $"""
               Restore the latest backup ({latest.FileName}, taken {latest.TakenAt:yyyy-MM-dd HH:mm} UTC) with
                   ./platform restore-db
               (or: Platform.Web restore-latest-backup); the damaged file is kept beside it as {Path.GetFileName(path)}.damaged-<time>.
               """;
        return $"""
                The dashboard's database {path} is damaged: {problem}.
                The dashboard cannot start on it. Stop it, then:
                {restore}
                Or move {path} and its -wal and -shm files away, and the dashboard starts with an empty database.
                """;
    }
}
