using Microsoft.Data.Sqlite;
using Platform.Web.Services.Tasks;

namespace Platform.Web.Services.Database;

/// <summary>Takes a backup of the database when the newest is a day old (looking every hour, and at start); each is a task.</summary>
internal sealed partial class DatabaseBackupScheduler(DatabaseBackups backups, ITaskLog tasks, TimeProvider clock, ILogger<DatabaseBackupScheduler> logger) : BackgroundService
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

            using var task = tasks.Begin(TaskActions.DatabaseBackup, null, "daily");
            task.Log($"Back up {backups.DatabasePath} into {backups.Folder}");
            try
            {
                var backup = backups.Take("daily");
                Log.Taken(logger, backup.Path, backup.SizeBytes);
                task.Succeed($"{backup.FileName}, {backup.SizeBytes} bytes");
            }
            catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException)
            {
                Log.Failed(logger, ex, backups.Folder);
                task.Fail(ex.Message);
            }
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException)
        {
            // The newest backup could not be listed, or the task log could not be written.
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
