using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services.Cluster;

namespace Platform.Web.Services.Tasks;

/// <inheritdoc />
/// <remarks>
/// A task's row is written when it begins (status Running) and again when it ends, with its log lines; lines of a running
/// task live in memory and are read from there. A dashboard that stops meanwhile loses those lines, and the next start
/// marks the row Cancelled (<see cref="TaskRetention"/>). Writes are synchronous: SQLite's async calls are synchronous
/// anyway, and a synchronous <see cref="Begin"/> is what lets its logging scope reach the caller's lines.
/// </remarks>
internal sealed partial class TaskLog(IDbContextFactory<PlatformDbContext> dbFactory, TimeProvider clock, ILogger<TaskLog> logger, ClusterSettings cluster)
    : ITaskLog
{
    public const int MaxPageSize = 500;

    private readonly ConcurrentDictionary<long, TaskScope> _running = new();
    private readonly Subscribers<TaskEntry> _subscribers = new();
    private int _endedSincePrune;

    /// <summary>Ids of the tasks running in this process, which a start-up clean-up must leave alone.</summary>
    internal IReadOnlyCollection<long> RunningIds => _running.Keys.ToList();

    public TaskScope Begin(string action, Guid? vmId, string? target = null, string? vmName = null, string? userName = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(action);
        var entry = new TaskEntry
        {
            Action = action, VmId = vmId, VmName = vmName, Target = Cut(target, 256), UserName = Cut(userName ?? TaskActor.Current, 256),
            Host = Cut(cluster.HostName, 256), StartedAt = clock.GetUtcNow(),
        };
        using (var db = dbFactory.CreateDbContext())
        {
            if (vmId is { } id && vmName is null)
            {
                entry.VmName = db.VirtualMachines.IgnoreAutoIncludes().Where(vm => vm.Id == id).Select(vm => vm.Name).FirstOrDefault();
            }

            db.Tasks.Add(entry);
            db.SaveChanges();
        }

        var scope = new TaskScope(entry, clock, Publish, Ended);
        _running[entry.Id] = scope;
        scope.AttachLogScope(logger.BeginScope(LogScope.ForTask(entry.Id, vmId)));
        Log.Began(logger, entry.Id, action, entry.VmName ?? target, entry.UserName ?? "the dashboard");
        Publish(scope);
        return scope;
    }

    public async Task<TaskPage> ListAsync(TaskQuery query, VmVisibility visibility, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(visibility);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var tasks = db.Tasks.AsNoTracking();
        if (query.VmId is { } vmId)
        {
            tasks = tasks.Where(t => t.VmId == vmId);
        }

        if (query.Status is { } status)
        {
            tasks = tasks.Where(t => t.Status == status);
        }

        if (query.Since is { } since)
        {
            tasks = tasks.Where(t => t.StartedAt >= since);
        }

        // As the event log: every VM but the exceptions, or only the exceptions; host tasks by their own flag.
        var exceptions = visibility.Exceptions.ToList();
        bool host = visibility.HostEvents;
        tasks = visibility.ByDefault
            ? tasks.Where(t => t.VmId == null ? host : !exceptions.Contains(t.VmId.Value))
            : tasks.Where(t => t.VmId == null ? host : exceptions.Contains(t.VmId.Value));

        int total = await tasks.CountAsync(cancellationToken);
        var items = await tasks.OrderByDescending(t => t.Id).Skip(Math.Max(0, query.Skip)).Take(Math.Clamp(query.Take, 1, MaxPageSize))
            .ToListAsync(cancellationToken);
        // A running task's row has no lines yet: the live ones are in memory.
        return new TaskPage(items.Select(t => _running.TryGetValue(t.Id, out var live) ? live.Snapshot() : t).ToList(), total);
    }

    public async Task<TaskEntry?> FindAsync(long id, CancellationToken cancellationToken)
    {
        if (_running.TryGetValue(id, out var live))
        {
            return live.Snapshot();
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id, cancellationToken);
    }

    public IDisposable Subscribe(Action<TaskEntry> handler) => _subscribers.Add(handler);

    private void Publish(TaskScope scope) => _subscribers.Publish(scope.Snapshot(), logger);

    private void Ended(TaskScope scope)
    {
        var entry = scope.Snapshot();
        try
        {
            using var db = dbFactory.CreateDbContext();
            db.Tasks.Where(t => t.Id == entry.Id).ExecuteUpdate(t => t
                .SetProperty(x => x.Status, entry.Status)
                .SetProperty(x => x.EndedAt, entry.EndedAt)
                .SetProperty(x => x.Result, entry.Result)
                .SetProperty(x => x.Log, entry.Log));
        }
        catch (Exception ex) when (ex is DbUpdateException or System.Data.Common.DbException or InvalidOperationException)
        {
            // The outcome still reaches the panel and the dashboard's log; only the stored row keeps saying Running.
            Log.NotSaved(logger, ex, entry.Id);
        }

        _running.TryRemove(entry.Id, out _);
        var level = entry.Status == TaskEntryStatus.Ok ? LogLevel.Information : LogLevel.Warning;
        Log.Ended(logger, level, entry.Id, entry.Action, entry.VmName ?? entry.Target, entry.Status, entry.Result);
        _subscribers.Publish(entry, logger);
        if (Interlocked.Increment(ref _endedSincePrune) % TaskRetention.PruneEvery == 0)
        {
            _ = Task.Run(() => TaskRetention.PruneAsync(dbFactory, clock, logger, CancellationToken.None));
        }
    }

    private static string? Cut(string? text, int length) => text is not null && text.Length > length ? text[..length] : text;

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Debug, "Task {TaskId} ({Action} {Target}) began for {User}")]
        public static partial void Began(ILogger logger, long taskId, string action, string? target, string user);

        [LoggerMessage("Task {TaskId} ({Action} {Target}) ended {Status}: {Result}")]
        public static partial void Ended(ILogger logger, LogLevel level, long taskId, string action, string? target, TaskEntryStatus status, string? result);

        [LoggerMessage(LogLevel.Error, "Task {TaskId}'s outcome could not be saved")]
        public static partial void NotSaved(ILogger logger, Exception exception, long taskId);
    }
}
