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
internal sealed class IoEventLoop : IDisposable
{
    private const int BatchSize = 32;
    private const ulong StopToken = 0;

    private readonly Epoll _epoll;
    private readonly EventFd _stop;
    private readonly List<Source> _building = [];
    private Source[] _sources = [];
    private Thread? _thread;
    private volatile bool _stopRequested;
    private long _events;
    private long _handlerFailures;

    public IoEventLoop()
    {
        _epoll = Epoll.Create();
        try
        {
            _stop = EventFd.Create();
            _building.Add(new Source(static () => { }, Consume: _stop));
            _epoll.Add(_stop.Handle, StopToken);
        }
        catch
        {
            _stop?.Dispose();
            _epoll.Dispose();
            throw;
        }
    }

    /// <summary>Events handled since the loop started.</summary>
    public long Events => Interlocked.Read(ref _events);

    /// <summary>Handlers that threw (each is a bug in a device; the loop carries on).</summary>
    public long HandlerFailures => Interlocked.Read(ref _handlerFailures);

    /// <summary>Calls <paramref name="handler"/> whenever <paramref name="eventFd"/> is signalled (its counter is read and cleared first).</summary>
    public void WatchEventFd(EventFd eventFd, Action handler) => Watch(eventFd.Handle, handler, eventFd, edgeTriggered: false);

    /// <summary>
    /// Calls <paramref name="handler"/> when <paramref name="fd"/> becomes readable (edge-triggered: the handler's
    /// owner reads until the fd is empty, or until it has room again and reads on its own).
    /// </summary>
    public void WatchReadable(FileDescriptorHandle fd, Action handler) => Watch(fd, handler, null, edgeTriggered: true);

    /// <summary>
    /// Calls <paramref name="handler"/> when the socket <paramref name="fd"/> becomes readable or writable or its peer
    /// hangs up (edge-triggered); the result moves the watch to a replacement socket later (<see cref="Rewatch"/>).
    /// </summary>
    public ulong WatchStream(FileDescriptorHandle fd, Action handler)
    {
        ulong token = (ulong)_building.Count;
        Watch(fd, handler, null, edgeTriggered: true, StreamEvents);
        return token;
    }

    /// <summary>
    /// The source <paramref name="token"/> now reads <paramref name="replacement"/> instead of <paramref name="old"/>
    /// (a helper process started again on a new socket). Safe while the loop runs: the handler stays the same.
    /// </summary>
    public void Rewatch(ulong token, FileDescriptorHandle old, FileDescriptorHandle replacement)
    {
        try
        {
            _epoll.Remove(old);
        }
        catch (KvmException)
        {
            // Already gone from the set (closed): nothing to remove.
        }

        _epoll.Add(replacement, token, StreamEvents);
    }

    private const uint StreamEvents = LibcNative.EpollIn | LibcNative.EpollOut | LibcNative.EpollRdHup | LibcNative.EpollEdgeTriggered;

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

    private void Watch(FileDescriptorHandle fd, Action handler, EventFd? consume, bool edgeTriggered, uint? events = null)
    {
        if (_thread is not null)
        {
            throw new InvalidOperationException("Event sources are added before the machine starts.");
        }

        ulong token = (ulong)_building.Count;
        _epoll.Add(fd, token, events ?? (LibcNative.EpollIn | (edgeTriggered ? LibcNative.EpollEdgeTriggered : 0)));
        _building.Add(new Source(handler, consume));
    }

    private void Loop()
    {
        Span<LibcNative.EpollEvent> events = stackalloc LibcNative.EpollEvent[BatchSize];
        var sources = _sources;
        while (!_stopRequested)
        {
            int count;
            try
            {
                count = _epoll.Wait(events, -1); // 0 when a signal interrupted the wait
            }
            catch (Exception ex) when (ex is KvmException or ObjectDisposedException)
            {
                return; // the epoll set is gone: the machine is being torn down
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

    private readonly record struct Source(Action Handler, EventFd? Consume);
}
