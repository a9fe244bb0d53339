namespace Platform.Devices.Virtio.Block;

/// <summary>
/// The threads that run a virtio-blk device's requests while its worker goes on popping and completing others: in
/// the spirit of QEMU's thread pool for <c>aio=threads</c>. Threads start only when every existing one is busy, up to
/// a bound, and then wait for work, so a disk driven one request at a time never has more than one.
/// </summary>
/// <remarks>
/// A thread runs <c>execute</c> for each request handed to <see cref="Run"/>; the device learns of completions from
/// <c>execute</c> itself. Blocking positioned I/O on a thread of our own, rather than on the .NET thread pool, keeps a
/// slow disk from starving the pool the rest of the VMM uses.
/// </remarks>
internal sealed class BlockIoThreads : IDisposable
{
    private const int StackSize = 256 * 1024;

    private readonly object _gate = new(); // Monitor.Wait/Pulse need an object lock
    private readonly Queue<BlockRequest> _work;
    private readonly List<Thread> _threads;
    private readonly Action<BlockRequest> _execute;
    private readonly int _maxThreads;
    private readonly string _name;
    private int _idle;
    private bool _stopping;

    public BlockIoThreads(int maxThreads, string name, Action<BlockRequest> execute)
    {
        _maxThreads = maxThreads;
        _name = name;
        _execute = execute;
        _work = new Queue<BlockRequest>(maxThreads);
        _threads = new List<Thread>(maxThreads);
    }

    /// <summary>Threads started so far.</summary>
    public int ThreadCount
    {
        get
        {
            lock (_gate)
            {
                return _threads.Count;
            }
        }
    }

    /// <summary>Queues <paramref name="request"/> for the next free thread, starting one if none is idle.</summary>
    public void Run(BlockRequest request)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stopping, this);
            _work.Enqueue(request);
            if (_idle > _work.Count - 1)
            {
                Monitor.Pulse(_gate);
            }
            else if (_threads.Count < _maxThreads)
            {
                var thread = new Thread(Loop, StackSize) { IsBackground = true, Name = $"{_name}-io{_threads.Count}" };
                _threads.Add(thread);
                thread.Start();
            }
        }
    }

    /// <summary>Stops the threads and waits for them; the device has drained its requests first.</summary>
    public void Dispose()
    {
        Thread[] threads;
        lock (_gate)
        {
            _stopping = true;
            Monitor.PulseAll(_gate);
            threads = [.. _threads];
        }

        foreach (var thread in threads)
        {
            thread.Join();
        }
    }

    private void Loop()
    {
        while (true)
        {
            BlockRequest request;
            lock (_gate)
            {
                while (_work.Count == 0 && !_stopping)
                {
                    _idle++;
                    Monitor.Wait(_gate);
                    _idle--;
                }

                if (_work.Count == 0)
                {
                    return;
                }

                request = _work.Dequeue();
            }

            _execute(request);
        }
    }
}
