using Microsoft.EntityFrameworkCore;
using Platform.Web.Data;
using Platform.Web.Services.Cluster;

namespace Platform.Web.Services.Tasks;

/// <summary>
/// Keeps the task log bounded: tasks older than <see cref="KeepFor"/> (30 days) go, and of the rest only the newest
/// <see cref="KeepCount"/> (10,000) stay — with at most <see cref="TaskLines.MaxLines"/> lines each, a few tens of MB at
/// worst. Runs at start (where it also marks tasks a stopped dashboard left Running as Cancelled), every hour, and
/// after every <see cref="PruneEvery"/> tasks.
/// </summary>
internal sealed partial class TaskRetention(
    IDbContextFactory<PlatformDbContext> dbFactory, TaskLog tasks, TimeProvider clock, ILogger<TaskRetention> logger, ClusterSettings cluster)
    : BackgroundService
{
    public static readonly TimeSpan KeepFor = TimeSpan.FromDays(30);
    public const int KeepCount = 10_000;
    public const int PruneEvery = 100;
    private static readonly TimeSpan Every = TimeSpan.FromHours(1);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Before the supervisor's start-up (registered earlier), so no task of this run is running yet; the ids are
        // left alone all the same.
        var mine = tasks.RunningIds.ToList();
        string host = cluster.HostName;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            // Only this host's (and those from before hosts were recorded): in a cluster, another host's dashboard may be
            // running its tasks right now.
            int orphans = await db.Tasks
                .Where(t => t.Status == TaskEntryStatus.Running && !mine.Contains(t.Id) && (t.Host == host || t.Host == null))
                .ExecuteUpdateAsync(t => t
                .SetProperty(x => x.Status, TaskEntryStatus.Cancelled)
                .SetProperty(x => x.EndedAt, clock.GetUtcNow())
                .SetProperty(x => x.Result, "The dashboard stopped while it ran; its lines were lost."), cancellationToken);
            if (orphans > 0)
            {
                Log.Orphans(logger, orphans);
            }
        }

        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Every, clock);
        try
        {
            do
            {
                await PruneAsync(dbFactory, clock, logger, stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException)
        {
            // The dashboard is stopping.
        }
    }

    /// <summary>Deletes ended tasks past <see cref="KeepFor"/> or beyond the newest <see cref="KeepCount"/>; never a running one.</summary>
    public static async Task PruneAsync(IDbContextFactory<PlatformDbContext> dbFactory, TimeProvider clock, ILogger pruneLogger, CancellationToken cancellationToken)
    {
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var before = clock.GetUtcNow() - KeepFor;
            int old = await db.Tasks.Where(t => t.Status != TaskEntryStatus.Running && t.StartedAt < before).ExecuteDeleteAsync(cancellationToken);
            long? oldestKept = await db.Tasks.OrderByDescending(t => t.Id).Skip(KeepCount - 1).Select(t => (long?)t.Id).FirstOrDefaultAsync(cancellationToken);
            int many = oldestKept is { } keep
                ? await db.Tasks.Where(t => t.Status != TaskEntryStatus.Running && t.Id < keep).ExecuteDeleteAsync(cancellationToken)
                : 0;
            if (old + many > 0)
            {
                Log.Pruned(pruneLogger, old + many);
            }
        }
        catch (Exception ex) when (ex is DbUpdateException or System.Data.Common.DbException)
        {
            Log.PruneFailed(pruneLogger, ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Information, "Marked {Count} tasks the last run left running as cancelled")]
        public static partial void Orphans(ILogger logger, int count);

        [LoggerMessage(LogLevel.Information, "Deleted {Count} old tasks from the task log")]
        public static partial void Pruned(ILogger logger, int count);

        [LoggerMessage(LogLevel.Warning, "Could not prune the task log")]
        public static partial void PruneFailed(ILogger logger, Exception exception);
    }
}
