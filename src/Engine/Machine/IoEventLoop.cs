using Platform.Engine.Kvm;
using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Machine;

/// <summary>
/// One thread that waits (epoll) on the machine's host-side event sources — the ioeventfds KVM signals for virtio
/// queue notifications, TAP devices with frames to read — and calls each source's handler. Handlers are cheap and
/// never block (they wake a device worker), so one thread serves every device and queue work never runs here.
/// </summary>
/// <remarks>
/// Sources are added while the machine is built; the table is fixed once <see cref="Start"/> runs, so the loop reads
/// it without a lock and allocates nothing per event. <see cref="Stop"/> wakes the loop through its own eventfd and
/// joins it: after it returns no handler runs, which the machine relies on before it frees devices and memory.
/// </remarks>
internal sealed unsafe class IoEventLoop : IDisposable
{
    private const int BatchSize = 32;
    private const ulong StopToken = 0;

    private readonly FileDescriptorHandle _epoll;
    private readonly EventFd _stop;
    private readonly List<Source> _building = [];
    private Source[] _sources = [];
    private Thread? _thread;
    private volatile bool _stopRequested;
    private long _events;
    private long _handlerFailures;

    public IoEventLoop()
    {
        int fd = LibcNative.EpollCreate1(LibcNative.EpollCloseOnExec);
        if (fd < 0)
        {
            throw new KvmException("epoll_create1", LibcNative.LastError, "The process may have run out of file descriptors (ulimit -n).");
        }

        _epoll = new FileDescriptorHandle(fd);
        _stop = EventFd.Create();
        _building.Add(new Source(_stop.Fd, static () => { }, Consume: _stop));
        Add(_stop.Fd, StopToken, edgeTriggered: false);
    }

    /// <summary>Events handled since the loop started.</summary>
    public long Events => Interlocked.Read(ref _events);

    /// <summary>Handlers that threw (each is a bug in a device; the loop carries on).</summary>
    public long HandlerFailures => Interlocked.Read(ref _handlerFailures);

    /// <summary>Calls <paramref name="handler"/> whenever <paramref name="eventFd"/> is signalled (its counter is read and cleared first).</summary>
    public void WatchEventFd(EventFd eventFd, Action handler) => Watch(eventFd.Fd, handler, eventFd, edgeTriggered: false);

    /// <summary>
    /// Calls <paramref name="handler"/> when <paramref name="fd"/> becomes readable (edge-triggered: the handler's
    /// owner reads until the fd is empty, or until it has room again and reads on its own).
    /// </summary>
    public void WatchReadable(int fd, Action handler) => Watch(fd, handler, null, edgeTriggered: true);

    public void Start()
    {
        if (_thread is not null)
        {
            throw new InvalidOperationException("The event loop is already running.");
        }

        _sources = [.. _building];
        _thread = new Thread(Loop) { IsBackground = true, Name = "io-events" };
        _thread.Start();
    }

    /// <summary>Ends the loop and waits for it; no handler runs after this returns.</summary>
    public void Stop()
    {
        _stopRequested = true;
        _stop.Signal();
        var thread = _thread;
        if (thread is not null && thread != Thread.CurrentThread)
        {
            thread.Join();
        }
    }

    public void Dispose()
    {
        Stop();
        _epoll.Dispose();
        _stop.Dispose();
    }

    private void Watch(int fd, Action handler, EventFd? consume, bool edgeTriggered)
    {
        if (_thread is not null)
        {
            throw new InvalidOperationException("Event sources are added before the machine starts.");
        }

        ulong token = (ulong)_building.Count;
        _building.Add(new Source(fd, handler, consume));
        Add(fd, token, edgeTriggered);
    }

    private void Add(int fd, ulong token, bool edgeTriggered)
    {
        var ev = new LibcNative.EpollEvent
        {
            Events = LibcNative.EpollIn | (edgeTriggered ? LibcNative.EpollEdgeTriggered : 0),
            Data = token,
        };
        // SAFETY: pointer to a local for the call's duration.
        if (LibcNative.EpollCtl(_epoll.Fd, LibcNative.EpollCtlAdd, fd, &ev) < 0)
        {
            throw new KvmException($"epoll_ctl ADD fd {fd}", LibcNative.LastError);
        }
    }

    private void Loop()
    {
        var events = stackalloc LibcNative.EpollEvent[BatchSize];
        var sources = _sources;
        while (!_stopRequested)
        {
            int count = LibcNative.EpollWait(_epoll.Fd, events, BatchSize, -1);
            if (count < 0)
            {
                if (LibcNative.LastError == LibcNative.EINTR)
                {
                    continue;
                }

                return; // the epoll fd is gone: the machine is being torn down
            }

            for (int i = 0; i < count && !_stopRequested; i++)
            {
                ulong token = events[i].Data;
                if (token == StopToken || token >= (ulong)sources.Length)
                {
                    continue;
                }

                Dispatch(sources[token]);
            }
        }
    }

    private void Dispatch(Source source)
    {
        Interlocked.Increment(ref _events);
        source.Consume?.Consume();
        try
        {
            source.Handler();
        }
#pragma warning disable CA1031 // a device's bug must not end the VMM's event thread: count it and carry on
        catch (Exception)
#pragma warning restore CA1031
        {
            Interlocked.Increment(ref _handlerFailures);
        }
    }

    private readonly record struct Source(int Fd, Action Handler, EventFd? Consume);
}
