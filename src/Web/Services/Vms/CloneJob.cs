namespace Platform.Web.Services.Vms;

public enum CloneMode
{
    /// <summary>Every disk copied whole into a file of the new VM's own (flattened: no backing file).</summary>
    Full,
    /// <summary>Templates only: each disk a qcow2 overlay whose backing file is the template's disk; made at once.</summary>
    Linked,
}

public enum CloneJobState
{
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// <summary>
/// One clone in progress or done, as the Clone tab and <c>GET /api/v1/vms/{id}/clones/{job}</c> show it: bytes copied of
/// the total, the outcome, and the new VM once it exists. Updated from the copying thread; read from anywhere.
/// </summary>
public sealed class CloneJob
{
    private readonly Lock _lock = new();
    private Action<CloneJob>[] _handlers = [];
    private long _copiedBytes;

    public Guid Id { get; } = Guid.NewGuid();

    public required Guid SourceVmId { get; init; }

    public required string SourceName { get; init; }

    public required string Name { get; init; }

    public required CloneMode Mode { get; init; }

    /// <summary>Bytes to copy: the virtual sizes of the disks a full copy reads (0 for a linked clone).</summary>
    public long TotalBytes { get; init; }

    public long CopiedBytes => Interlocked.Read(ref _copiedBytes);

    public int Percent => TotalBytes == 0 ? (State == CloneJobState.Succeeded ? 100 : 0) : (int)(CopiedBytes * 100 / TotalBytes);

    public CloneJobState State { get; private set; } = CloneJobState.Running;

    /// <summary>Why it failed, or what was made.</summary>
    public string? Message { get; private set; }

    public Guid? NewVmId { get; private set; }

    public string? StartedBy { get; init; }

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    public DateTimeOffset? FinishedAt { get; private set; }

    /// <summary>Calls <paramref name="handler"/> on the copying thread as bytes go through and when the job ends.</summary>
    public void Follow(Action<CloneJob> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (_lock)
        {
            _handlers = [.. _handlers, handler];
        }
    }

    public void Unfollow(Action<CloneJob> handler)
    {
        lock (_lock)
        {
            _handlers = [.. _handlers.Where(h => h != handler)];
        }
    }

    internal void Advance(long bytes)
    {
        Interlocked.Add(ref _copiedBytes, bytes);
        Raise();
    }

    internal void Finish(CloneJobState state, string message, Guid? newVmId = null)
    {
        (State, Message, NewVmId, FinishedAt) = (state, message, newVmId, DateTimeOffset.UtcNow);
        Raise();
    }

    /// <summary>A follower that throws (a page gone) never stops the copy.</summary>
    private void Raise()
    {
        foreach (var handler in Volatile.Read(ref _handlers))
        {
            try
            {
                handler(this);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The follower's own problem: the job goes on.
            }
        }
    }
}
