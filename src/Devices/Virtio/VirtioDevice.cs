using System.Diagnostics.Metrics;
using Platform.Devices.Abstractions;
using Platform.Devices.Virtio.Queue;

namespace Platform.Devices.Virtio;

/// <summary>
/// The common life of a virtio device: one worker thread per activation that sleeps until a queue is notified (or
/// the device wakes itself, say for host input), then lets the subclass drain that queue. Reset stops the worker and
/// waits for it, so no guest memory is touched after the driver's reset returns.
/// </summary>
/// <remarks>
/// <para>Notifications are a bit per queue (at most 64 queues) set with one interlocked OR; the notifier pulses the
/// worker only when the set was empty, so a burst of notifications costs one wake-up and nothing allocates.</para>
/// <para>A queue fault, or a request the device cannot make sense of (<see cref="Fail"/>), puts the device into
/// NEEDS_RESET through the transport and stops all queue work until the driver resets. An exception escaping a
/// subclass is treated the same way, so a device bug ends this device, never the VMM.</para>
/// </remarks>
public abstract class VirtioDevice : IVirtioDevice
{
    /// <summary>Worker wake-up reasons above the queue bits, for subclasses (<see cref="Wake"/>).</summary>
    protected const int FirstCustomWakeBit = 48;

    private static readonly Counter<long> ErrorCounter = DeviceCounters.VirtioErrors;

    private readonly Lock _lifecycle = new();
    private readonly object _gate = new(); // Monitor.Wait/Pulse need an object lock
    private readonly ushort[] _queueMaxSizes;
    private Thread? _worker;
    private volatile bool _stopRequested;
    private volatile bool _failed;
    private long _wakeBits;
    private long _errors;

    protected VirtioDevice(VirtioDeviceType type, ushort[] queueMaxSizes)
    {
        if (queueMaxSizes.Length is 0 or > FirstCustomWakeBit)
        {
            throw new ArgumentOutOfRangeException(nameof(queueMaxSizes), $"A device has 1 to {FirstCustomWakeBit} queues.");
        }

        DeviceType = type;
        _queueMaxSizes = queueMaxSizes;
    }

    public VirtioDeviceType DeviceType { get; }

    public IReadOnlyList<ushort> QueueMaxSizes => _queueMaxSizes;

    public abstract ulong DeviceFeatures { get; }

    public abstract int ConfigSize { get; }

    /// <summary>Times this device gave up on the driver (queue faults, malformed requests, internal errors).</summary>
    public long Errors => Interlocked.Read(ref _errors);

    /// <summary>The last reason the device went to NEEDS_RESET, for logs and <c>query-stats</c>.</summary>
    public string? LastError { get; private set; }

    /// <summary>The current activation; null while the driver has not set DRIVER_OK (or after reset).</summary>
    protected VirtioActivation? Activation { get; private set; }

    /// <summary>The device gave up on the driver (NEEDS_RESET) and does no queue work until the driver resets it.</summary>
    protected bool HasFailed => _failed;

    public abstract void ReadConfig(int offset, Span<byte> data);

    public virtual void WriteConfig(int offset, ReadOnlySpan<byte> data)
    {
        // Most configuration spaces are read-only to the driver.
    }

    public void Activate(VirtioActivation activation)
    {
        lock (_lifecycle)
        {
            StopWorker();
            Activation = activation;
            _failed = false;
            _stopRequested = false;
            OnActivate(activation);
            // Buffers the driver made available before DRIVER_OK are served without waiting for a notification.
            Interlocked.Exchange(ref _wakeBits, (1L << _queueMaxSizes.Length) - 1);
            _worker = new Thread(WorkerLoop) { IsBackground = true, Name = $"virtio-{DeviceType.ToString().ToLowerInvariant()}" };
            _worker.Start();
        }
    }

    public void QueueNotified(int queueIndex)
    {
        if ((uint)queueIndex < (uint)_queueMaxSizes.Length)
        {
            Wake(queueIndex);
        }
    }

    public void Reset()
    {
        lock (_lifecycle)
        {
            StopWorker();
            Activation = null;
            _failed = false;
            Interlocked.Exchange(ref _wakeBits, 0);
            OnReset();
        }
    }

    public void Dispose()
    {
        Reset();
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Drains queue <paramref name="queueIndex"/> on the worker thread; called after a notification or a wake.</summary>
    protected abstract void ProcessQueue(int queueIndex, VirtQueue queue);

    /// <summary>The worker woke for <paramref name="bit"/> (≥ <see cref="FirstCustomWakeBit"/>), set with <see cref="Wake"/>.</summary>
    protected virtual void OnCustomWake(int bit)
    {
    }

    /// <summary>Called under the lifecycle lock before the worker starts.</summary>
    protected virtual void OnActivate(VirtioActivation activation)
    {
    }

    /// <summary>
    /// Called under the lifecycle lock when the worker is asked to stop, before it is waited for: wake whatever the
    /// worker may be blocked on besides its queues (a throttled request's turn).
    /// </summary>
    protected virtual void OnStopping()
    {
    }

    /// <summary>Called under the lifecycle lock after the worker stopped: forget per-activation state.</summary>
    protected virtual void OnReset()
    {
    }

    protected virtual void Dispose(bool disposing)
    {
    }

    /// <summary>Wakes the worker for a queue index or a custom bit. Any thread, no allocation, no blocking.</summary>
    protected void Wake(int bit)
    {
        if (Interlocked.Or(ref _wakeBits, 1L << bit) == 0)
        {
            lock (_gate)
            {
                Monitor.Pulse(_gate);
            }
        }
    }

    /// <summary>Signals the driver if it wants to hear about the used buffers just added to <paramref name="queue"/>.</summary>
    protected void SignalUsed(VirtQueue queue)
    {
        if (queue.ShouldSignalDriver())
        {
            Activation?.Transport.SignalUsedBuffers(queue.Index);
        }
    }

    /// <summary>The driver sent something the device cannot process: NEEDS_RESET, and no more queue work until reset.</summary>
    protected void Fail(string reason)
    {
        if (_failed)
        {
            return;
        }

        _failed = true;
        Interlocked.Increment(ref _errors);
        ErrorCounter.Add(1, new KeyValuePair<string, object?>("device", DeviceType.ToString()));
        LastError = reason;
        Activation?.Transport.ReportDeviceError(reason);
    }

    private void StopWorker()
    {
        var worker = _worker;
        if (worker is null)
        {
            return;
        }

        _stopRequested = true;
        lock (_gate)
        {
            Monitor.PulseAll(_gate);
        }

        OnStopping();
        if (worker != Thread.CurrentThread)
        {
            worker.Join();
        }

        _worker = null;
    }

    private void WorkerLoop()
    {
        var activation = Activation!;
        while (true)
        {
            lock (_gate)
            {
                while (Volatile.Read(ref _wakeBits) == 0 && !_stopRequested)
                {
                    Monitor.Wait(_gate);
                }
            }

            if (_stopRequested)
            {
                return;
            }

            ulong bits = (ulong)Interlocked.Exchange(ref _wakeBits, 0);
            for (int bit = 0; bits != 0 && !_stopRequested && !_failed; bit++, bits >>= 1)
            {
                if ((bits & 1) != 0)
                {
                    RunOne(activation, bit);
                }
            }
        }
    }

    private void RunOne(VirtioActivation activation, int bit)
    {
        try
        {
            if (bit >= FirstCustomWakeBit)
            {
                OnCustomWake(bit);
                return;
            }

            if (bit >= activation.Queues.Count || activation.Queues[bit] is not { } queue)
            {
                return;
            }

            ProcessQueue(bit, queue);
            if (queue.Fault != VirtQueueFault.None)
            {
                Fail($"queue {bit}: {queue.Fault}");
            }
        }
#pragma warning disable CA1031 // a device bug must end this device, not the VMM: the guest sees NEEDS_RESET
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Fail($"internal error: {ex.GetType().Name}: {ex.Message}");
        }
    }
}
