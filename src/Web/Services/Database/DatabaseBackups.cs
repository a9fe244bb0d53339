using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Platform.Web.Services.Database;

/// <summary>One backup file of the dashboard's database.</summary>
public sealed record DatabaseBackup(string Path, DateTimeOffset TakenAt, string Reason, long SizeBytes)
{
    public string FileName => System.IO.Path.GetFileName(Path);
}

/// <summary>
/// Online backups of the dashboard's SQLite database with SQLite's backup API (a consistent copy while the dashboard
/// runs and writes), as <c>backups/platform-{UTC time}-{reason}.db</c> beside the database, owner-only. Taken once a
/// day (<see cref="DatabaseBackupScheduler"/>) and before each migration; those older than <see cref="KeepFor"/> go,
/// except the newest, which always stays. <see cref="RestoreLatest"/> is the way out of a damaged database.
/// </summary>
public sealed class DatabaseBackups(string databasePath, TimeProvider clock)
{
    public const string FolderName = "backups";
    private const string TimeFormat = "yyyyMMdd'T'HHmmss'Z'";

    public static readonly TimeSpan KeepFor = TimeSpan.FromDays(7);

    public string DatabasePath { get; } = databasePath;

    public string Folder => Path.Combine(Path.GetDirectoryName(DatabasePath)!, FolderName);

    /// <summary>The backups there are, newest first.</summary>
    public IReadOnlyList<DatabaseBackup> List()
    {
        if (!Directory.Exists(Folder))
        {
            return [];
        }

        var backups = new List<DatabaseBackup>();
        foreach (var file in new DirectoryInfo(Folder).EnumerateFiles("platform-*.db"))
        {
            // platform-20261205T071500Z-daily.db
            string[] parts = Path.GetFileNameWithoutExtension(file.Name).Split('-', 3);
            if (parts.Length == 3 && DateTimeOffset.TryParseExact(parts[1], TimeFormat, CultureInfo.InvariantCulture,
                    DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
            {
                backups.Add(new DatabaseBackup(file.FullName, at, parts[2], file.Length));
            }
        }

        return backups.OrderByDescending(b => b.TakenAt).ToList();
    }

    /// <summary>The newest backup, or null when there is none.</summary>
    public DatabaseBackup? Latest() => List() is [var newest, ..] ? newest : null;

    /// <summary>Copies the live database into a new backup file and drops backups past <see cref="KeepFor"/>.</summary>
    /// <param name="reason">A word for the file name: daily, before-migration.</param>
    public DatabaseBackup Take(string reason)
    {
        if (OperatingSystem.IsLinux())
        {
            Directory.CreateDirectory(Folder, DataFolderPermissions.Folder);
        }
        else
        {
            Directory.CreateDirectory(Folder);
        }

        var now = clock.GetUtcNow();
        string path = Path.Combine(Folder, $"platform-{now.ToString(TimeFormat, CultureInfo.InvariantCulture)}-{reason}.db");
        string temporary = path + ".partial";
        using (var source = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString()))
        using (var target = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = temporary, Pooling = false }.ToString()))
        {
            source.Open();
            target.Open();
            source.BackupDatabase(target);
        }

        if (OperatingSystem.IsLinux())
        {
            File.SetUnixFileMode(temporary, DataFolderPermissions.File);
        }

        // Complete or absent: a backup cut short by a crash is never listed as one.
        File.Move(temporary, path, overwrite: true);
        Prune(now);
        return List().First(b => b.Path == path);
    }

    private void Prune(DateTimeOffset now)
    {
        foreach (var old in List().Skip(1).Where(b => now - b.TakenAt > KeepFor))
        {
            File.Delete(old.Path);
        }
    }

    /// <summary>
    /// Puts the newest backup in the database's place; the database there (and its -wal and -shm files) is moved aside as
    /// <c>platform.db.damaged-{time}</c>, not deleted. Run it with the dashboard stopped.
    /// </summary>
    /// <returns>The backup restored and where the old database went (null when there was none).</returns>
    /// <exception cref="InvalidOperationException">There is no backup.</exception>
    public (DatabaseBackup Restored, string? MovedAside) RestoreLatest()
    {
        var latest = Latest()
            ?? throw new InvalidOperationException($"There is no backup in {Folder}: nothing to restore.");
        string? aside = null;
        string suffix = ".damaged-" + clock.GetUtcNow().ToString(TimeFormat, CultureInfo.InvariantCulture);
        foreach (string part in new[] { "", "-wal", "-shm" })
        {
            string file = DatabasePath + part;
            if (File.Exists(file))
            {
                File.Move(file, DatabasePath + suffix + part);
                aside ??= DatabasePath + suffix;
            }
        }

        File.Copy(latest.Path, DatabasePath);
        if (OperatingSystem.IsLinux())
        {
            File.SetUnixFileMode(DatabasePath, DataFolderPermissions.File);
        }

        return (latest, aside);
    }
}
