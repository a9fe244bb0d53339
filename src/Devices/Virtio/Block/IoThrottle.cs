using System.Diagnostics;

namespace Platform.Devices.Virtio.Block;

/// <summary>
/// A disk's I/O limits, bytes and requests a second over reads and writes together (QEMU's <c>throttle.bps-total</c> and
/// <c>throttle.iops-total</c>, what Proxmox's disk throttling sets), held in the device rather than by a cgroup: a
/// cgroup v1 <c>blkio</c> throttle counts only I/O that reaches the block layer from the VMM itself, so it misses the
/// writes a writeback-cached disk leaves to the kernel's flusher and the reads the page cache answers, and it limits a
/// whole host device where the setting is per disk.
/// </summary>
/// <remarks>
/// Each request is scheduled on a virtual clock: it costs <c>bytes / bps</c> and <c>1 / iops</c> seconds, its turn
/// comes when the clock has advanced by its cost from the last request's turn (or from now, when the disk was idle), and
/// the thread that carries it out waits for that turn before doing the I/O. There is no burst allowance: over any
/// stretch of steady I/O the rate is the limit, to within one request. <see cref="Release"/> (a device reset) lets every
/// waiting request go at once.
/// </remarks>
public sealed class IoThrottle
{
    private readonly object _lock = new(); // Monitor.Wait/PulseAll need an object lock
    private readonly Func<long> _now;
    private readonly long _ticksPerSecond;
    private long _bytesPerSecond;
    private long _iops;
    private long _nextTurn;
    private int _releases;

    /// <param name="now">A monotonic clock in ticks of <paramref name="ticksPerSecond"/>; the default is <see cref="Stopwatch"/>'s.</param>
    public IoThrottle(long? bytesPerSecond, int? iops, Func<long>? now = null, long ticksPerSecond = 0)
    {
        _now = now ?? Stopwatch.GetTimestamp;
        _ticksPerSecond = now is null ? Stopwatch.Frequency : ticksPerSecond;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(_ticksPerSecond);
        Set(bytesPerSecond, iops);
    }

    public long? BytesPerSecond => Volatile.Read(ref _bytesPerSecond) is > 0 and var v ? v : null;

    public int? Iops => Volatile.Read(ref _iops) is > 0 and var v ? (int)v : null;

    /// <summary>Requests waited for their turn, and for how long in all.</summary>
    public long Throttled { get; private set; }

    public TimeSpan ThrottledTime { get; private set; }

    /// <summary>Changes the limits; requests from now on are scheduled by them (a null or 0 limit is none).</summary>
    public void Set(long? bytesPerSecond, int? iops)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytesPerSecond ?? 0);
        ArgumentOutOfRangeException.ThrowIfNegative(iops ?? 0);
        lock (_lock)
        {
            _bytesPerSecond = bytesPerSecond ?? 0;
            _iops = iops ?? 0;
        }
    }

    /// <summary>Takes a turn for a request of <paramref name="bytes"/>; returns the ticks to wait until it (0: go now).</summary>
    public long Reserve(long bytes)
    {
        // Every disk of a VMM has a throttle (its limits may be set while it runs); one with none costs no lock.
        if (Volatile.Read(ref _bytesPerSecond) == 0 && Volatile.Read(ref _iops) == 0)
        {
            return 0;
        }

        lock (_lock)
        {
            long cost = 0;
            if (_bytesPerSecond > 0)
            {
                cost = (long)((double)bytes * _ticksPerSecond / _bytesPerSecond);
            }

            if (_iops > 0)
            {
                cost = Math.Max(cost, _ticksPerSecond / _iops);
            }

            if (cost == 0)
            {
                return 0;
            }

            long now = _now();
            // An idle disk saves nothing up: its next request starts paying from now.
            _nextTurn = Math.Max(_nextTurn, now) + cost;
            long wait = _nextTurn - now;
            Throttled++;
            ThrottledTime += TimeSpan.FromSeconds((double)wait / _ticksPerSecond);
            return wait;
        }
    }

    /// <summary>Waits for a request's turn (<see cref="Reserve"/>), or until <see cref="Release"/>.</summary>
    public void Wait(long bytes)
    {
        long wait = Reserve(bytes);
        if (wait <= 0)
        {
            return;
        }

        long deadline = _now() + wait;
        lock (_lock)
        {
            int releases = _releases;
            while (_releases == releases)
            {
                long left = deadline - _now();
                if (left <= 0)
                {
                    return;
                }

                Monitor.Wait(_lock, TimeSpan.FromSeconds(Math.Min((double)left / _ticksPerSecond, 1.0)));
            }
        }
    }

    /// <summary>Lets every waiting request go now and forgets the schedule (a reset of the device).</summary>
    public void Release()
    {
        lock (_lock)
        {
            _releases++;
            _nextTurn = 0;
            Monitor.PulseAll(_lock);
        }
    }
}
