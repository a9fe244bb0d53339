namespace Platform.Devices.Virtio.Input;

/// <summary>
/// The events a virtio-input device holds until the driver has posted buffers for them: whole reports (each ends
/// with EV_SYN/SYN_REPORT) in arrival order, at most <see cref="Capacity"/> events. Not thread-safe: the device
/// calls it under its own lock.
/// </summary>
/// <remarks>
/// <para>When a new report does not fit, older reports make room, a whole report at a time so the guest never sees
/// a report cut in two: first the oldest pointer-motion-only reports (absolute or relative motion and nothing
/// else — the next report moves the pointer anyway), then the oldest reports of any kind. The report the driver is
/// part-way through (some of its events delivered) is never dropped. A report larger than the buffer is refused.
/// Every event lost is counted.</para>
/// <para>QEMU instead drops a report whenever the driver has not posted enough buffers for all of it at once; here
/// the guest gets every event unless it falls a whole buffer behind.</para>
/// <para>The buffer is one array with the pending events kept contiguous; removing a report from the middle moves
/// the later ones down. With a few hundred events that is cheaper than anything cleverer, and nothing allocates.</para>
/// </remarks>
public sealed class InputEventBuffer
{
    private readonly InputEvent[] _events;
    private int _start;
    private int _end;
    private bool _midReport;
    private long _droppedEvents;
    private long _droppedReports;

    public InputEventBuffer(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 2);
        _events = new InputEvent[capacity];
    }

    public int Capacity => _events.Length;

    /// <summary>Events waiting for the driver.</summary>
    public int Count => _end - _start;

    /// <summary>Events lost because the buffer was full (whole reports, SYN_REPORT included).</summary>
    public long DroppedEvents => _droppedEvents;

    /// <summary>Reports lost because the buffer was full.</summary>
    public long DroppedReports => _droppedReports;

    /// <summary>
    /// Adds one report (<paramref name="report"/> must end with SYN_REPORT and hold no other), dropping older
    /// reports if it does not fit. False when the report itself was dropped.
    /// </summary>
    public bool TryAdd(ReadOnlySpan<InputEvent> report)
    {
        if (report.IsEmpty || !report[^1].IsSyncReport)
        {
            throw new ArgumentException("A report ends with EV_SYN/SYN_REPORT.", nameof(report));
        }

        while (Capacity - Count < report.Length)
        {
            if (!DropOldestReport(motionOnly: true) && !DropOldestReport(motionOnly: false))
            {
                _droppedEvents += report.Length;
                _droppedReports++;
                return false;
            }
        }

        if (_end + report.Length > Capacity)
        {
            // Slide the pending events to the front; they are few, and this happens once per trip around.
            Array.Copy(_events, _start, _events, 0, Count);
            _end -= _start;
            _start = 0;
        }

        report.CopyTo(_events.AsSpan(_end));
        _end += report.Length;
        return true;
    }

    /// <summary>The oldest pending event; call only when <see cref="Count"/> is not zero.</summary>
    public InputEvent Peek() => Count > 0 ? _events[_start] : throw new InvalidOperationException("The buffer is empty.");

    /// <summary>Removes the oldest pending event once it has been delivered.</summary>
    public void RemoveFirst()
    {
        InputEvent delivered = Peek();
        _midReport = !delivered.IsSyncReport;
        _start++;
        if (_start == _end)
        {
            _start = _end = 0;
        }
    }

    /// <summary>Forgets everything pending (the driver reset the device); the drop counters stay.</summary>
    public void Clear()
    {
        _start = _end = 0;
        _midReport = false;
    }

    private bool DropOldestReport(bool motionOnly)
    {
        int reportStart = _start;
        bool first = true;
        while (reportStart < _end)
        {
            int reportEnd = reportStart;
            bool motion = true;
            while (!_events[reportEnd].IsSyncReport)
            {
                motion &= IsMotion(_events[reportEnd]);
                reportEnd++;
            }

            reportEnd++; // past the SYN_REPORT
            bool inDelivery = first && _midReport;
            if (!inDelivery && (!motionOnly || motion))
            {
                int length = reportEnd - reportStart;
                Array.Copy(_events, reportEnd, _events, reportStart, _end - reportEnd);
                _end -= length;
                _droppedEvents += length;
                _droppedReports++;
                return true;
            }

            first = false;
            reportStart = reportEnd;
        }

        return false;
    }

    private static bool IsMotion(InputEvent e) =>
        e.Type == LinuxInput.EventAbsolute ||
        (e.Type == LinuxInput.EventRelative && e.Code is LinuxInput.RelativeX or LinuxInput.RelativeY);
}
