using Microsoft.EntityFrameworkCore;
using Platform.Web.Data;

namespace Platform.Web.Services.Vms;

/// <inheritdoc />
internal sealed class VmEventLog(IDbContextFactory<PlatformDbContext> dbFactory, ILogger<VmEventLog> logger) : IVmEventLog
{
    public const int MaxPageSize = 500;

    private readonly Subscribers<VmEvent> _subscribers = new();

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
    }

    public async Task<VmEventPage> ListAsync(Guid? vmId, int skip, int take, CancellationToken cancellationToken)
    {
        skip = Math.Max(0, skip);
        take = Math.Clamp(take, 1, MaxPageSize);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = db.VmEvents.AsNoTracking();
        if (vmId is { } id)
        {
            query = query.Where(e => e.VmId == id);
        }

        int total = await query.CountAsync(cancellationToken);
        // Ids grow with time (SQLite's rowid), and unlike DateTimeOffset they order in SQL.
        var items = await query.OrderByDescending(e => e.Id).Skip(skip).Take(take).ToListAsync(cancellationToken);
        return new VmEventPage(items, total);
    }

    public IDisposable Subscribe(Action<VmEvent> handler) => _subscribers.Add(handler);
}
