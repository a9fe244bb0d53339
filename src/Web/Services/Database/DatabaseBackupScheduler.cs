using Microsoft.Data.Sqlite;

namespace Platform.Web.Services.Database;

/// <summary>Takes a backup of the database when the newest is a day old (looking every hour, and at start).</summary>
internal sealed partial class DatabaseBackupScheduler(DatabaseBackups backups, TimeProvider clock, ILogger<DatabaseBackupScheduler> logger) : BackgroundService
{
    public static readonly TimeSpan Every = TimeSpan.FromDays(1);
    private static readonly TimeSpan LookEvery = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(LookEvery, clock);
        try
        {
            do
            {
                TakeIfDue();
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException)
        {
            // The dashboard is stopping.
        }
    }

    private void TakeIfDue()
    {
        try
        {
            if (backups.Latest() is { } newest && clock.GetUtcNow() - newest.TakenAt < Every)
            {
                return;
            }

            var backup = backups.Take("daily");
            Log.Taken(logger, backup.Path, backup.SizeBytes);
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException)
        {
            Log.Failed(logger, ex, backups.Folder);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Information, "Backed up the database to {Path} ({Bytes} bytes)")]
        public static partial void Taken(ILogger logger, string path, long bytes);

        [LoggerMessage(LogLevel.Error, "Could not back up the database into {Folder}")]
        public static partial void Failed(ILogger logger, Exception exception, string folder);
    }
}
