using Microsoft.EntityFrameworkCore;
using Platform.Web.Data;
using Platform.Web.Security;

namespace Platform.Web.Services.Vms;

/// <inheritdoc />
internal sealed class VmEventLog(IDbContextFactory<PlatformDbContext> dbFactory, ILogger<VmEventLog> logger) : IVmEventLog
{
    public const int MaxPageSize = 500;

    private readonly Subscribers<VmEvent> _subscribers = new();

    /// <summary>Only the entries added here, not those other hosts added: what a cluster's host sends the others.</summary>
    private readonly Subscribers<VmEvent> _added = new();

    public async Task AddAsync(VmEvent entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.Message.Length > 4096)
        {
            entry.Message = entry.Message[..4096];
        }

        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            db.VmEvents.Add(entry);
            await db.SaveChangesAsync(cancellationToken);
        }

        _subscribers.Publish(entry, logger);
        _added.Publish(entry, logger);
    }

    /// <summary>Calls <paramref name="handler"/> after each entry this process adds (not those <see cref="PublishAddedElsewhere"/> passes on).</summary>
    internal IDisposable SubscribeAdded(Action<VmEvent> handler) => _added.Add(handler);

    /// <summary>Another host of the cluster added <paramref name="entry"/> (it is stored already): this host's subscribers hear it too.</summary>
    internal void PublishAddedElsewhere(VmEvent entry) => _subscribers.Publish(entry, logger);

    public async Task<VmEventPage> ListAsync(Guid? vmId, VmVisibility visibility, int skip, int take, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(visibility);
        skip = Math.Max(0, skip);
        take = Math.Clamp(take, 1, MaxPageSize);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = db.VmEvents.AsNoTracking();
        if (vmId is { } id)
        {
            query = query.Where(e => e.VmId == id);
        }

        // Every VM but the exceptions, or only the exceptions; host events (no VM) by their own flag.
        var exceptions = visibility.Exceptions.ToList();
        bool host = visibility.HostEvents;
        query = visibility.ByDefault
            ? query.Where(e => e.VmId == null ? host : !exceptions.Contains(e.VmId.Value))
            : query.Where(e => e.VmId == null ? host : exceptions.Contains(e.VmId.Value));

        int total = await query.CountAsync(cancellationToken);
        // Ids grow with time (SQLite's rowid), and unlike DateTimeOffset they order in SQL.
        var items = await query.OrderByDescending(e => e.Id).Skip(skip).Take(take).ToListAsync(cancellationToken);
        return new VmEventPage(items, total);
    }

    public IDisposable Subscribe(Action<VmEvent> handler) => _subscribers.Add(handler);
}
