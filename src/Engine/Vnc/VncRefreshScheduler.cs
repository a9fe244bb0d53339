using System.Diagnostics.CodeAnalysis;

namespace Platform.Engine.Vnc;

/// <summary>
/// When a <see cref="VncServer"/> looks at the screen. No client: never (no timer is armed, no dirty log is read).
/// Clients and a changing screen: every <see cref="VncServerOptions.MinRefreshInterval"/>. Clients and a still screen:
/// the wait doubles after each look that found nothing, up to <see cref="VncServerOptions.MaxRefreshInterval"/>, and
/// snaps back to the minimum on the first change, on a client's key or pointer event, and when a client joins.
/// </summary>
/// <remarks>
/// <para>
/// QEMU's VNC server is the anchor: it refreshes every 30 ms while the screen changes, adds 50 ms after each look that
/// found nothing up to 3 s, and stops with no client. Doubling instead of adding reaches the 3 s ceiling after about
/// 6 s of stillness rather than 90 s, so a viewer left open on an idle console costs almost nothing within seconds;
/// a change waits at most one ceiling to be seen, as in QEMU, and input wakes the refresh at once.
/// </para>
/// <para>
/// One one-shot <see cref="ITimer"/> from the server's <see cref="TimeProvider"/>, re-armed after each look: nothing
/// allocates per refresh, and a test drives it with a fake clock.
/// </para>
/// </remarks>
internal sealed class VncRefreshScheduler : IDisposable
{
    private readonly VncServer _server;
    private readonly TimeSpan _min;
    private readonly TimeSpan _max;
    private readonly ITimer _timer;
    private readonly Lock _lock = new();
    private TimeSpan _interval;
    private bool _armed;
    private bool _disposed;
    private long _refreshErrors;
    private string? _lastError;

    public VncRefreshScheduler(VncServer server, TimeProvider time)
    {
        _server = server;
        _min = server.Options.MinRefreshInterval;
        _max = server.Options.MaxRefreshInterval < _min ? _min : server.Options.MaxRefreshInterval;
        _interval = _min;
        _timer = time.CreateTimer(static state => ((VncRefreshScheduler)state!).Tick(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The wait before the next look (the minimum while nothing is armed).</summary>
    public TimeSpan Interval
    {
        get
        {
            lock (_lock)
            {
                return _interval;
            }
        }
    }

    /// <summary>True while a look is scheduled: there are clients.</summary>
    public bool IsArmed
    {
        get
        {
            lock (_lock)
            {
                return _armed;
            }
        }
    }

    /// <summary>Refreshes that threw (a bug): counted, and the next one is tried so the screen never freezes for good.</summary>
    public long RefreshErrors => Interlocked.Read(ref _refreshErrors);

    public string? LastError => Volatile.Read(ref _lastError);

    /// <summary>A client joined or sent input: look again after the shortest wait.</summary>
    public void Hurry()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _interval = _min;
            _armed = true;
            _timer.Change(_min, Timeout.InfiniteTimeSpan);
        }
    }

    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "A fault in one refresh must not stop the display or the VMM.")]
    private void Tick()
    {
        bool changed;
        try
        {
            changed = _server.Refresh();
        }
        catch (Exception ex)
        {
            Interlocked.Increment(ref _refreshErrors);
            Volatile.Write(ref _lastError, $"refresh failed: {ex.GetType().Name}: {ex.Message}");
            changed = false;
        }

        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            if (_server.ClientCount == 0)
            {
                // The last client left: stop until the next one joins (it calls Hurry after it is counted).
                _armed = false;
                _interval = _min;
                return;
            }

            _interval = changed ? _min : Next(_interval);
            _armed = true;
            _timer.Change(_interval, Timeout.InfiniteTimeSpan);
        }
    }

    private TimeSpan Next(TimeSpan interval) => interval >= _max / 2 ? _max : interval * 2;

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _armed = false;
        }

        _timer.Dispose();
    }
}
