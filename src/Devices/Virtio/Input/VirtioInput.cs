using Platform.Devices.Virtio.Queue;

namespace Platform.Devices.Virtio.Input;

/// <summary>
/// virtio-input (virtio 1.2, 5.8; PCI 1AF4:1052): the host's input events go to the driver through the event queue,
/// the driver's LED changes come back through the status queue, and the configuration space answers the driver's
/// questions about the device (<see cref="InputDeviceDescription"/>) through its select/subsel protocol — what
/// Linux's virtio_input driver asks at probe time and QEMU's virtio-input devices answer.
/// </summary>
/// <remarks>
/// <para>Host side: a subclass (<see cref="VirtioKeyboard"/>, <see cref="VirtioTablet"/>) turns host input into
/// reports and calls <see cref="SendReport"/> from any thread. A report waits in an <see cref="InputEventBuffer"/>
/// until the driver has posted buffers — one 8-byte buffer per event, as Linux keeps 64 of them posted — and the
/// device worker copies it out. Nothing is queued while the driver is not running (before DRIVER_OK, after a reset,
/// while the device needs a reset): the guest is not listening, as in QEMU.</para>
/// <para>A buffer in the event queue with room for less than one event is a driver bug the device cannot work
/// around (virtio 1.2, 5.8.6.1: buffers MUST be at least that size), so the device goes to NEEDS_RESET; a short or
/// write-only status buffer only loses that status and is counted.</para>
/// </remarks>
public abstract class VirtioInput : VirtioDevice
{
    /// <summary>Each queue's size, as QEMU's virtio-input has.</summary>
    public const ushort QueueSize = 64;
    public const int EventQueue = 0, StatusQueue = 1;

    /// <summary><c>virtio_input_config</c>: select, subsel, size, 5 reserved bytes, then the 128-byte union.</summary>
    public const int ConfigLength = UnionOffset + InputDeviceDescription.MaxAnswerLength;
    public const int SelectOffset = 0, SubselOffset = 1, SizeOffset = 2, UnionOffset = 8;

    /// <summary>Events held for a driver that has not posted buffers yet: 2 KiB, about 85 pointer moves.</summary>
    public const int DefaultBufferCapacity = 256;

    private const int EventsWakeBit = FirstCustomWakeBit;

    private readonly Lock _configLock = new();
    private readonly byte[] _config = new byte[ConfigLength];
    private readonly Lock _eventLock = new();
    private readonly InputEventBuffer _pending;
    private volatile bool _active;
    private bool _roomWanted;   // a TrySendReport found the buffer full: tell the host when there is room
    private long _eventsDelivered;
    private long _reportsQueued;
    private long _statusEvents;
    private long _badStatusBuffers;
    private long _ignoredConfigWrites;

    protected VirtioInput(InputDeviceDescription description, int bufferCapacity)
        : base(VirtioDeviceType.Input, [QueueSize, QueueSize])
    {
        ArgumentNullException.ThrowIfNull(description);
        description.Freeze();
        Description = description;
        _pending = new InputEventBuffer(bufferCapacity);
    }

    public InputDeviceDescription Description { get; }

    public override ulong DeviceFeatures => 0;

    public override int ConfigSize => ConfigLength;

    /// <summary>The driver is running the device (DRIVER_OK, no reset since, not failed): reports reach the guest.</summary>
    public bool IsActive => _active && !HasFailed;

    /// <summary>Events written into the driver's buffers.</summary>
    public long EventsDelivered => Interlocked.Read(ref _eventsDelivered);

    /// <summary>Reports accepted while the driver was running.</summary>
    public long ReportsQueued => Interlocked.Read(ref _reportsQueued);

    /// <summary>Events lost because the driver fell a whole buffer behind.</summary>
    public long EventsDropped
    {
        get
        {
            lock (_eventLock)
            {
                return _pending.DroppedEvents;
            }
        }
    }

    /// <summary>Events waiting for driver buffers.</summary>
    public int EventsPending
    {
        get
        {
            lock (_eventLock)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Status events (LED changes) the driver sent.</summary>
    public long StatusEvents => Interlocked.Read(ref _statusEvents);

    /// <summary>Status buffers too short to hold an event, or not readable.</summary>
    public long BadStatusBuffers => Interlocked.Read(ref _badStatusBuffers);

    /// <summary>Bytes the driver wrote to read-only configuration fields (anything but select and subsel).</summary>
    public long IgnoredConfigWrites => Interlocked.Read(ref _ignoredConfigWrites);

    public override void ReadConfig(int offset, Span<byte> data)
    {
        lock (_configLock)
        {
            _config.AsSpan(offset, data.Length).CopyTo(data);
        }
    }

    /// <summary>Select and subsel are the only writable fields; writing either looks up the new answer at once.</summary>
    public override void WriteConfig(int offset, ReadOnlySpan<byte> data)
    {
        lock (_configLock)
        {
            bool selected = false;
            for (int i = 0; i < data.Length; i++)
            {
                if (offset + i is SelectOffset or SubselOffset)
                {
                    _config[offset + i] = data[i];
                    selected = true;
                }
                else
                {
                    Interlocked.Increment(ref _ignoredConfigWrites);
                }
            }

            if (selected)
            {
                _config[SizeOffset] = (byte)Description.Answer(_config[SelectOffset], _config[SubselOffset], _config.AsSpan(UnionOffset));
            }
        }
    }

    /// <summary>
    /// Queues one report — its events followed by EV_SYN/SYN_REPORT, which <paramref name="report"/> must end with —
    /// and wakes the worker. Any thread; allocates nothing. False when the driver is not running or the report was
    /// dropped (see <see cref="InputEventBuffer"/>).
    /// </summary>
    protected bool SendReport(ReadOnlySpan<InputEvent> report)
    {
        lock (_eventLock)
        {
            if (!IsActive || !_pending.TryAdd(report))
            {
                return false;
            }
        }

        Interlocked.Increment(ref _reportsQueued);
        Wake(EventsWakeBit);
        return true;
    }

    /// <summary>
    /// Queues one report as <see cref="SendReport"/> does, but never drops one to make room: <see cref="SendResult.Full"/>
    /// when it does not fit now, with nothing changed, and <see cref="RoomAvailable"/> is called once the driver has
    /// taken half the buffer, so the host can offer it again (back-pressure for keys, which must all arrive).
    /// </summary>
    protected SendResult TrySendReport(ReadOnlySpan<InputEvent> report)
    {
        lock (_eventLock)
        {
            if (!IsActive)
            {
                return SendResult.NotListening;
            }

            if (_pending.Capacity - _pending.Count < report.Length)
            {
                _roomWanted = true;
                return SendResult.Full;
            }

            _pending.TryAdd(report);
        }

        Interlocked.Increment(ref _reportsQueued);
        Wake(EventsWakeBit);
        return SendResult.Sent;
    }

    /// <summary>
    /// Called after the driver made room following a <see cref="SendResult.Full"/> answer, or after the driver went
    /// away (a reset: the host should route elsewhere): on the device's worker thread or the thread that reset it,
    /// outside the device's locks. Keep it short (queue work elsewhere).
    /// </summary>
    public Action? RoomAvailable { get; set; }

    /// <summary>True once after a refusal when the buffer is half empty, or empty; under <see cref="_eventLock"/>.</summary>
    private bool TakeRoomSignal()
    {
        if (!_roomWanted || _pending.Count > _pending.Capacity / 2)
        {
            return false;
        }

        _roomWanted = false;
        return true;
    }

    /// <summary>The driver sent a status event (worker thread).</summary>
    protected virtual void OnStatusEvent(InputEvent status)
    {
    }

    /// <summary>The driver started or reset the device: forget per-driver state (lifecycle lock held).</summary>
    protected virtual void OnDriverChanged()
    {
    }

    protected sealed override void OnActivate(VirtioActivation activation)
    {
        bool room;
        lock (_eventLock)
        {
            _pending.Clear();
            _active = true;
            room = TakeRoomSignal();
        }

        OnDriverChanged();
        if (room)
        {
            RoomAvailable?.Invoke();
        }
    }

    protected sealed override void OnReset()
    {
        bool room;
        lock (_eventLock)
        {
            _active = false;
            _pending.Clear();
            room = TakeRoomSignal();
        }

        if (room)
        {
            RoomAvailable?.Invoke();
        }

        lock (_configLock)
        {
            Array.Clear(_config);
        }

        OnDriverChanged();
    }

    protected override void ProcessQueue(int queueIndex, VirtQueue queue)
    {
        if (queueIndex == EventQueue)
        {
            Deliver(queue);
        }
        else
        {
            ConsumeStatus(queue);
        }
    }

    protected override void OnCustomWake(int bit)
    {
        if (bit == EventsWakeBit && Activation?.Queues[EventQueue] is { } queue)
        {
            Deliver(queue);
        }
    }

    /// <summary>Copies pending events into the driver's event buffers, one event per buffer, oldest first.</summary>
    private void Deliver(VirtQueue queue)
    {
        Span<byte> bytes = stackalloc byte[InputEvent.Size];
        bool added = false, room;
        ulong badLength = ulong.MaxValue;
        lock (_eventLock)
        {
            while (_pending.Count > 0 && queue.TryPop(out var chain))
            {
                if (chain.WritableLength < InputEvent.Size)
                {
                    badLength = chain.WritableLength;
                    break;
                }

                _pending.Peek().WriteTo(bytes);
                chain.Write(0, bytes);
                queue.AddUsed(chain.Head, InputEvent.Size);
                _pending.RemoveFirst();
                added = true;
                Interlocked.Increment(ref _eventsDelivered);
            }

            room = TakeRoomSignal();
        }

        if (added)
        {
            SignalUsed(queue);
        }

        if (room)
        {
            RoomAvailable?.Invoke();
        }

        if (badLength != ulong.MaxValue)
        {
            Fail($"an event buffer has {badLength} writable bytes, less than one {InputEvent.Size}-byte event");
        }
    }

    private void ConsumeStatus(VirtQueue queue)
    {
        Span<byte> bytes = stackalloc byte[InputEvent.Size];
        bool added = false;
        while (queue.TryPop(out var chain))
        {
            if (chain.ReadableLength >= InputEvent.Size && chain.Read(0, bytes) == InputEvent.Size)
            {
                Interlocked.Increment(ref _statusEvents);
                OnStatusEvent(InputEvent.ReadFrom(bytes));
            }
            else
            {
                Interlocked.Increment(ref _badStatusBuffers);
            }

            queue.AddUsed(chain.Head, 0);
            added = true;
        }

        if (added)
        {
            SignalUsed(queue);
        }
    }
}
