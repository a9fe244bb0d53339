namespace Platform.Web.Services.Supervisor;

/// <summary>
/// How many watchers each VM has (pages and hub clients showing its live numbers): a VM is watched while its count is
/// above zero. Each watch is an <see cref="IDisposable"/> that counts down once, however often it is disposed.
/// </summary>
internal sealed class WatchCounts
{
    private readonly Dictionary<Guid, int> _counts = [];
    private readonly Lock _lock = new();

    public IDisposable Add(Guid vmId)
    {
        lock (_lock)
        {
            _counts[vmId] = _counts.GetValueOrDefault(vmId) + 1;
        }

        return new Watch(this, vmId);
    }

    public bool Contains(Guid vmId)
    {
        lock (_lock)
        {
            return _counts.ContainsKey(vmId);
        }
    }

    private void Remove(Guid vmId)
    {
        lock (_lock)
        {
            if (_counts.TryGetValue(vmId, out int count))
            {
                if (count <= 1)
                {
                    _counts.Remove(vmId);
                }
                else
                {
                    _counts[vmId] = count - 1;
                }
            }
        }
    }

    private sealed class Watch(WatchCounts owner, Guid vmId) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Remove(vmId);
            }
        }
    }
}
