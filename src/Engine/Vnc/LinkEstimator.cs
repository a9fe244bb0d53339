using System.Diagnostics;

namespace Platform.Engine.Vnc;

/// <summary>What a client's link allows now: its measured delivery rate (null until measured) and the encoder settings chosen for it.</summary>
/// <param name="BytesPerSecond">How fast the client took in the last large updates; null before the first.</param>
/// <param name="CompressLevel">The zlib level the encoders use (0–9).</param>
/// <param name="JpegQuality">The JPEG quality level (0–9) Tight may use for photo-like areas; -1: no JPEG (the client asked for none).</param>
public readonly record struct LinkSettings(double? BytesPerSecond, int CompressLevel, int JpegQuality);

/// <summary>
/// Estimates how fast one VNC client takes in updates and picks encoder settings to match, within the client's own: the
/// TurboVNC/TigerVNC idea of spending CPU on compression only where bytes are what the user waits for. An update is
/// acknowledged when the client has taken it in — the answer to the fence after a continuous update, or the next
/// FramebufferUpdateRequest — so the time from its sending (or from the previous acknowledgement, if the link was still
/// busy with that one) to its acknowledgement, less the link's round trip, is the time its bytes took on the link.
/// Only updates of at least <see cref="MinSampleBytes"/> count: a small one measures the round trip, not the rate.
/// </summary>
/// <remarks>
/// The client's compression level is the least the link gets: on a link slower than <see cref="SlowBytesPerSecond"/>
/// (16 Mbit/s) the level rises to <see cref="SlowCompressLevel"/>, and below <see cref="VerySlowBytesPerSecond"/> (2 Mbit/s)
/// to 9. The client's JPEG quality is the most it gets: lowered to <see cref="SlowJpegQuality"/> and
/// <see cref="VerySlowJpegQuality"/> on those links, never raised, never turned on for a client that did not ask for JPEG.
/// A fast link or an unmeasured one keeps the client's settings. Thread-safe: the sender reports what it sent, the reader
/// what the client acknowledged.
/// </remarks>
public sealed class LinkEstimator
{
    public const int MinSampleBytes = 8 * 1024;
    public const double SlowBytesPerSecond = 2_000_000;
    public const double VerySlowBytesPerSecond = 250_000;
    public const int SlowCompressLevel = 6;
    public const int SlowJpegQuality = 5;
    public const int VerySlowJpegQuality = 2;

    /// <summary>More in flight than this and the oldest is forgotten (a client that never acknowledges).</summary>
    private const int MaxInFlight = 8;

    /// <summary>Weight of a new sample in the moving average: recent updates count most, one odd sample does not decide.</summary>
    private const double Smoothing = 0.3;

    private readonly Lock _lock = new();
    private readonly Queue<(long Bytes, long SentAt)> _inFlight = new();
    private long _lastAcknowledged;
    private long _minRoundTrip = long.MaxValue;
    private double? _bytesPerSecond;
    private LinkSpeed _speed;

    /// <summary>The delivery rate measured so far; null before the first large update was acknowledged.</summary>
    public double? BytesPerSecond
    {
        get
        {
            lock (_lock)
            {
                return _bytesPerSecond;
            }
        }
    }

    /// <summary>An update of <paramref name="bytes"/> that the client will acknowledge was handed to the socket at <paramref name="timestamp"/> (<see cref="Stopwatch"/> ticks).</summary>
    public void Sent(long bytes, long timestamp)
    {
        lock (_lock)
        {
            if (_inFlight.Count == MaxInFlight)
            {
                _inFlight.Dequeue();
            }

            _inFlight.Enqueue((bytes, timestamp));
        }
    }

    /// <summary>
    /// Forgets the updates in flight, keeping what was measured: the client's way of acknowledging changed (continuous
    /// updates turned on or off), so acknowledgements of one kind must not be matched with updates of the other.
    /// </summary>
    public void ForgetInFlight()
    {
        lock (_lock)
        {
            _inFlight.Clear();
        }
    }

    /// <summary>The client acknowledged the oldest update in flight at <paramref name="timestamp"/>; nothing when none is.</summary>
    public void Acknowledged(long timestamp)
    {
        lock (_lock)
        {
            if (!_inFlight.TryDequeue(out var update))
            {
                return;
            }

            long roundTrip = timestamp - update.SentAt;
            if (update.Bytes < MinSampleBytes)
            {
                // A small update crosses in about one round trip: the best measure of it we have.
                _minRoundTrip = Math.Min(_minRoundTrip, roundTrip);
            }
            else
            {
                // The link carried this update from when it was sent, or from when it finished the one before.
                long busy = timestamp - Math.Max(update.SentAt, _lastAcknowledged);
                long transfer = busy - (_minRoundTrip == long.MaxValue ? 0 : _minRoundTrip);
                // Under a millisecond of transfer: faster than this clock and the link's jitter can tell, so a fast link.
                double seconds = Math.Max(transfer, Stopwatch.Frequency / 1000) / (double)Stopwatch.Frequency;
                double rate = update.Bytes / seconds;
                _bytesPerSecond = _bytesPerSecond is { } average ? average + (Smoothing * (rate - average)) : rate;
            }

            _lastAcknowledged = timestamp;
        }
    }

    /// <summary>
    /// The settings for the next update, given what the client asked for: <paramref name="clientLevel"/> (0–9, or -1 for
    /// none, when the encoder's <paramref name="defaultLevel"/> applies) and <paramref name="clientQuality"/> (0–9, -1 for no JPEG).
    /// </summary>
    public LinkSettings Choose(int clientLevel, int clientQuality, int defaultLevel)
    {
        double? rate;
        LinkSpeed speed;
        lock (_lock)
        {
            rate = _bytesPerSecond;
            _speed = speed = Classify(_speed, rate);
        }

        int level = clientLevel >= 0 ? Math.Min(clientLevel, 9) : defaultLevel;
        int quality = clientQuality >= 0 ? Math.Min(clientQuality, 9) : -1;
        switch (speed)
        {
            case LinkSpeed.VerySlow:
                level = 9;
                quality = quality < 0 ? -1 : Math.Min(quality, VerySlowJpegQuality);
                break;
            case LinkSpeed.Slow:
                level = Math.Max(level, SlowCompressLevel);
                quality = quality < 0 ? -1 : Math.Min(quality, SlowJpegQuality);
                break;
        }

        return new LinkSettings(rate, level, quality);
    }

    /// <summary>
    /// The link's class, with hysteresis: a class is entered below its bound and left only above half as much again, so
    /// a rate near a bound does not flip the settings each update (a Tight level change restarts its zlib streams).
    /// </summary>
    private static LinkSpeed Classify(LinkSpeed current, double? rate)
    {
        const double Leave = 1.5;
        if (rate is not { } r)
        {
            return LinkSpeed.Fast;
        }

        if (r < VerySlowBytesPerSecond || (current == LinkSpeed.VerySlow && r < VerySlowBytesPerSecond * Leave))
        {
            return LinkSpeed.VerySlow;
        }

        return r < SlowBytesPerSecond || (current != LinkSpeed.Fast && r < SlowBytesPerSecond * Leave) ? LinkSpeed.Slow : LinkSpeed.Fast;
    }

    private enum LinkSpeed
    {
        Fast,
        Slow,
        VerySlow,
    }
}
