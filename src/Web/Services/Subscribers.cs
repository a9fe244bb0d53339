namespace Platform.Web.Services;

/// <summary>
/// A thread-safe list of handlers handed out as <see cref="IDisposable"/> subscriptions. One handler that throws
/// is logged and does not keep the others from hearing.
/// </summary>
internal sealed class Subscribers<T>
{
    private readonly Lock _lock = new();
    private Action<T>[] _handlers = [];

    public IDisposable Add(Action<T> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (_lock)
        {
            _handlers = [.. _handlers, handler];
        }

        return new Subscription(this, handler);
    }

    public void Publish(T value, ILogger logger)
    {
        foreach (var handler in Volatile.Read(ref _handlers))
        {
            try
            {
                handler(value);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                logger.LogWarning(ex, "A subscriber failed to handle {Value}", value);
            }
        }
    }

    private void Remove(Action<T> handler)
    {
        lock (_lock)
        {
            int index = Array.IndexOf(_handlers, handler);
            if (index >= 0)
            {
                _handlers = [.. _handlers[..index], .. _handlers[(index + 1)..]];
            }
        }
    }

    private sealed class Subscription(Subscribers<T> owner, Action<T> handler) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Remove(handler);
            }
        }
    }
}
