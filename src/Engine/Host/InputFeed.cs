namespace Platform.Engine.Host;

/// <summary>
/// Paces host input into a guest device that holds only a little (the i8042's 16 bytes, a virtio keyboard's event
/// buffer, the UART's FIFO): each client of the input (a VNC viewer, a serial.sock connection) gets its own bounded
/// queue, and the feed hands their items to the device one at a time, round-robin, while the device has room. When
/// the device is full the feed stops and waits for <see cref="RoomAvailable"/>, which the device calls once the guest
/// has taken something. Nothing is dropped because the guest is slow; items are refused (and counted) only past a
/// client's bound, and one client's long paste never delays another's typing by more than one turn.
/// </summary>
/// <remarks>
/// <para>
/// <c>tryDeliver</c> answers true when the device took the item (or discarded it on purpose: nobody is listening) and
/// false when it is full; a device that answers false must call <see cref="RoomAvailable"/> later, so it arms its
/// callback under its own lock when it refuses. Delivery runs on the thread that queued the item, or on the thread
/// pool after <see cref="RoomAvailable"/>: never on the vCPU thread that made the room.
/// </para>
/// <para>
/// A feed with nothing queued costs nothing: no timer, no thread.
/// </para>
/// </remarks>
public sealed class InputFeed<T> : IThreadPoolWorkItem
{
    private readonly Func<T, bool> _tryDeliver;
    private readonly Lock _lock = new();
    private readonly List<Client> _clients = [];
    private int _next;            // the client whose turn it is
    private int _pumpScheduled;   // a pump is queued on the thread pool
    private bool _pumping;
    private bool _pumpAgain;
    private long _delivered;
    private long _refused;

    /// <param name="tryDeliver">Offers one item to the device: true when taken, false when it is full now.</param>
    public InputFeed(Func<T, bool> tryDeliver)
    {
        ArgumentNullException.ThrowIfNull(tryDeliver);
        _tryDeliver = tryDeliver;
    }

    /// <summary>Items handed to the device.</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>Items turned away because a client's queue was at its bound.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Items waiting in all queues.</summary>
    public int Pending
    {
        get
        {
            lock (_lock)
            {
                int pending = 0;
                foreach (Client client in _clients)
                {
                    pending += client.Count;
                }

                return pending;
            }
        }
    }

    /// <summary>A new client's queue, holding at most <paramref name="limit"/> items.</summary>
    public Client Open(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        return new Client(this, limit);
    }

    /// <summary>
    /// The device has room again (any thread; allocates nothing): delivery resumes on the thread pool, when anything
    /// waits. With nothing queued there is nothing to resume (an item queued later is delivered by its own thread), so
    /// a device that says it has room at every boot does not start the thread pool before the guest runs.
    /// </summary>
    public void RoomAvailable()
    {
        lock (_lock)
        {
            if (_clients.Count == 0)
            {
                return; // only clients with something queued are listed
            }
        }

        if (Interlocked.Exchange(ref _pumpScheduled, 1) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    void IThreadPoolWorkItem.Execute()
    {
        Volatile.Write(ref _pumpScheduled, 0);
        Pump();
    }

    /// <summary>
    /// Hands queued items to the device, one per client in turn, until it is full or every queue is empty. One pump
    /// at a time: a call while another thread pumps makes that one go round again.
    /// </summary>
    public void Pump()
    {
        lock (_lock)
        {
            if (_pumping)
            {
                _pumpAgain = true;
                return;
            }

            _pumping = true;
        }

        bool done = false;
        try
        {
            while (true)
            {
                DeliverUntilFullOrEmpty();
                lock (_lock)
                {
                    // Decided under the lock, so a Pump that found us busy is never lost between our last look and here.
                    if (!_pumpAgain)
                    {
                        _pumping = false;
                        done = true;
                        return;
                    }

                    _pumpAgain = false;
                }
            }
        }
        finally
        {
            if (!done)
            {
                lock (_lock)
                {
                    _pumping = false; // the device threw: the next Pump starts afresh
                }
            }
        }
    }

    private void DeliverUntilFullOrEmpty()
    {
        while (true)
        {
            Client? client;
            T item;
            lock (_lock)
            {
                client = NextWithItems();
                if (client is null)
                {
                    return;
                }

                item = client.Peek();
            }

            // The device is called outside the feed's lock: clients keep queueing while it works.
            if (!_tryDeliver(item))
            {
                return; // full: RoomAvailable brings us back
            }

            lock (_lock)
            {
                int index = _clients.IndexOf(client);
                client.Dequeue();
                if (client.Count == 0)
                {
                    // Out of the round until it queues again, so an idle client costs the pump nothing.
                    client.Listed = false;
                    _clients.RemoveAt(index);
                    _next = index;
                }
                else
                {
                    _next = index + 1;
                }

                _next = _clients.Count == 0 ? 0 : _next % _clients.Count;
            }

            Interlocked.Increment(ref _delivered);
        }
    }

    /// <summary>The first client from <see cref="_next"/> on with something queued; under the lock.</summary>
    private Client? NextWithItems()
    {
        for (int i = 0; i < _clients.Count; i++)
        {
            Client candidate = _clients[(_next + i) % _clients.Count];
            if (candidate.Count > 0)
            {
                _next = (_next + i) % _clients.Count;
                return candidate;
            }
        }

        return null;
    }

    /// <summary>One client's queue. Add from one thread at a time (the client's reader).</summary>
    public sealed class Client
    {
        private readonly InputFeed<T> _feed;
        private readonly Queue<T> _items = new();
        private readonly int _limit;
        private TaskCompletionSource? _roomWaiter;
        private bool _closed;
        private long _refused;

        internal Client(InputFeed<T> feed, int limit)
        {
            _feed = feed;
            _limit = limit;
        }

        /// <summary>Items of this client turned away at its bound.</summary>
        public long Refused => Interlocked.Read(ref _refused);

        internal int Count => _items.Count;

        /// <summary>In the feed's round: true exactly while something is queued (under the feed's lock).</summary>
        internal bool Listed { get; set; }

        /// <summary>Queues <paramref name="item"/> without delivering it; false (and counted) when the queue is at its bound.</summary>
        public bool TryAdd(T item)
        {
            lock (_feed._lock)
            {
                if (_closed || _items.Count >= _limit)
                {
                    Interlocked.Increment(ref _refused);
                    Interlocked.Increment(ref _feed._refused);
                    return false;
                }

                _items.Enqueue(item);
                if (!Listed)
                {
                    Listed = true;
                    _feed._clients.Add(this);
                }

                return true;
            }
        }

        /// <summary>
        /// Queues <paramref name="item"/> even past the bound: for the little that must never be refused, such as the
        /// releases of the keys a leaving client held down.
        /// </summary>
        public void AddPastLimit(T item)
        {
            lock (_feed._lock)
            {
                _items.Enqueue(item);
                if (!Listed)
                {
                    Listed = true;
                    _feed._clients.Add(this);
                }
            }
        }

        /// <summary>Queues <paramref name="item"/> and delivers what the device takes now; false when refused at the bound.</summary>
        public bool Add(T item)
        {
            bool added = TryAdd(item);
            _feed.Pump();
            return added;
        }

        /// <summary>
        /// Completes once this queue is below its bound (at once if it is): a reader that would rather hold input in
        /// its socket than refuse it waits here.
        /// </summary>
        public Task WaitForRoomAsync(CancellationToken cancellationToken)
        {
            lock (_feed._lock)
            {
                if (_items.Count < _limit || _closed)
                {
                    return Task.CompletedTask;
                }

                _roomWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                return _roomWaiter.Task.WaitAsync(cancellationToken);
            }
        }

        /// <summary>No more input from this client; what it queued is still delivered, then the queue goes.</summary>
        public void Close()
        {
            lock (_feed._lock)
            {
                // An empty queue is already out of the round; a full one leaves it when it has been delivered.
                _closed = true;
                _roomWaiter?.TrySetResult();
                _roomWaiter = null;
            }
        }

        internal T Peek() => _items.Peek();

        /// <summary>Under the feed's lock.</summary>
        internal void Dequeue()
        {
            _items.Dequeue();
            if (_roomWaiter is not null && _items.Count < _limit)
            {
                _roomWaiter.TrySetResult();
                _roomWaiter = null;
            }
        }
    }
}
