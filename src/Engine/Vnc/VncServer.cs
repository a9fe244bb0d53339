using System.Diagnostics.CodeAnalysis;
using Platform.Engine.Host;

namespace Platform.Engine.Vnc;

/// <summary>
/// An RFB 3.8 server (RFC 6143; 3.3 and 3.7 clients too) for one VM's screen, keyboard and pointer. It knows no
/// sockets: the engine accepts connections (on <c>vnc.sock</c>, or a TCP listener) and hands each stream to
/// <see cref="ServeAsync"/>, and either lets the server refresh on its own schedule (<see cref="StartRefreshing"/>:
/// never without a client, backing off while the screen is still) or calls <see cref="Refresh"/> itself.
/// </summary>
/// <remarks>
/// <para>
/// One <see cref="ScreenShadow"/> holds the screen for all clients; a refresh compares the lines the dirty log names
/// and marks changed 16×16 tiles in every client's own <see cref="DirtyTiles"/>. Each client has a reader (its
/// messages: pixel format, encodings, update requests, input) and a sender that, when the client has asked for an
/// update and something changed, encodes the changed tiles from the shadow into one reusable buffer and writes it.
/// A client that stops reading blocks only its own sender; meanwhile its changes coalesce in its tile bitmap, so it
/// costs at most its buffer (about one framebuffer in its pixel format) and its zlib state, however long it lags.
/// </para>
/// <para>
/// A malformed message, a failed password or a broken connection ends that client only: <see cref="ServeAsync"/>
/// never throws. Key presses a client leaves held when it goes are released.
/// </para>
/// <para>
/// Keys are never lost to a slow guest: each client's key events wait in its own queue (up to
/// <see cref="VncServerOptions.MaxQueuedKeys"/>, past which they are refused and counted) and go to the keyboard one at a
/// time, clients in turn, while the keyboard has room (<see cref="InputFeed{T}"/>). A client that leaves still has what
/// it typed delivered, then its held keys released.
/// </para>
/// </remarks>
public sealed class VncServer : IDisposable
{
    private readonly IFramebufferSource _source;
    private readonly Lock _refreshLock = new();       // one refresh at a time: the dirty log has one reader
    private readonly Lock _clientsLock = new();
    private readonly ReaderWriterLockSlim _shadowLock = new(LockRecursionPolicy.NoRecursion);
    private readonly ScreenShadow _shadow = new();
    private readonly CancellationTokenSource _disposed = new();
    private readonly VncAuthentication? _authentication;
    private readonly InputFeed<int> _keys;
    private VncRefreshScheduler? _scheduler;
    private VncConnection[] _clients = [];
    private VncCursor? _cursor;
    private int _cursorVersion = 1;
    private int _leds = -1;
    private bool _shadowPrimed;
    private bool _sourceReleased; // set under _refreshLock by Dispose: the source is never read again

    private long _connections;
    private long _protocolErrors;
    private long _authenticationFailures;
    private long _refusedClients;
    private long _internalErrors;
    private long _updates;
    private long _bytesSent;
    private long _rectangles;

    public VncServer(IFramebufferSource source, VncServerOptions? options = null, IVncKeyboard? keyboard = null, IVncPointer? pointingDevice = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        _source = source;
        Options = options ?? new VncServerOptions();
        Keyboard = keyboard;
        Pointer = pointingDevice;
        _cursor = VncCursor.Arrow;
        _keys = new InputFeed<int>(DeliverKey);
        if (keyboard is not null)
        {
            keyboard.RoomAvailable = _keys.RoomAvailable;
        }

        if (Options.Password is not null)
        {
            _authentication = new VncAuthentication(Options.Password);
        }
    }

    public VncServerOptions Options { get; }

    internal IVncKeyboard? Keyboard { get; }

    internal IVncPointer? Pointer { get; }

    /// <summary>Clients past the handshake now.</summary>
    public int ClientCount => Volatile.Read(ref _clients).Length;

    /// <summary>Connections handed to <see cref="ServeAsync"/>.</summary>
    public long Connections => Interlocked.Read(ref _connections);

    /// <summary>Clients closed for a malformed or unsupported message.</summary>
    public long ProtocolErrors => Interlocked.Read(ref _protocolErrors);

    /// <summary>Clients that gave a wrong password.</summary>
    public long AuthenticationFailures => Interlocked.Read(ref _authenticationFailures);

    /// <summary>Clients turned away because <see cref="VncServerOptions.MaxClients"/> were connected.</summary>
    public long RefusedClients => Interlocked.Read(ref _refusedClients);

    /// <summary>Clients closed because of a fault in the server itself (a bug: the VMM keeps running).</summary>
    public long InternalErrors => Interlocked.Read(ref _internalErrors);

    /// <summary>FramebufferUpdate messages sent, to all clients.</summary>
    public long UpdatesSent => Interlocked.Read(ref _updates);

    /// <summary>Rectangles sent in updates (pseudo-rectangles included).</summary>
    public long RectanglesSent => Interlocked.Read(ref _rectangles);

    /// <summary>Bytes written to clients after their handshakes.</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    /// <summary>Key events waiting for room in the guest's keyboard, all clients together.</summary>
    public int KeysQueued => _keys.Pending;

    /// <summary>Key events handed to the keyboard.</summary>
    public long KeysDelivered => _keys.Delivered;

    /// <summary>Key events refused because their client already had <see cref="VncServerOptions.MaxQueuedKeys"/> waiting.</summary>
    public long KeysRefused => _keys.Refused;

    /// <summary>Refreshes on the server's own schedule that failed (a bug; the next one is tried).</summary>
    public long RefreshErrors => _scheduler?.RefreshErrors ?? 0;

    /// <summary>Why the last failed refresh failed; null if none did.</summary>
    public string? LastRefreshError => _scheduler?.LastError;

    /// <summary>The wait before the server's next look at the screen; null unless <see cref="StartRefreshing"/> was called.</summary>
    public TimeSpan? RefreshInterval => _scheduler is { IsArmed: true } scheduler ? scheduler.Interval : null;

    /// <summary>Pixels the last refresh read from video memory and compared (small when the dirty log works).</summary>
    public long LastRefreshPixelsCompared { get; private set; }

    /// <summary>The pointer shape sent to clients that draw the cursor; null sends none. <see cref="VncCursor.Arrow"/> at first.</summary>
    public VncCursor? Cursor
    {
        get => Volatile.Read(ref _cursor);
        set
        {
            Volatile.Write(ref _cursor, value);
            Interlocked.Increment(ref _cursorVersion);
            foreach (VncConnection client in Volatile.Read(ref _clients))
            {
                client.Wake();
            }
        }
    }

    internal int CursorVersion => Volatile.Read(ref _cursorVersion);

    internal ScreenShadow Shadow => _shadow;

    /// <summary>
    /// Serves one client on <paramref name="stream"/> until it disconnects, breaks the protocol, or the server is
    /// disposed or <paramref name="cancellationToken"/> cancelled; then closes the stream. Never throws.
    /// </summary>
    public Task ServeAsync(Stream stream, CancellationToken cancellationToken = default) =>
        ServeAsync(stream, requirePassword: true, cancellationToken);

    /// <summary>
    /// Serves one client as <see cref="ServeAsync(Stream, CancellationToken)"/> does; with
    /// <paramref name="requirePassword"/> false the client gets security type None even when the server has a password
    /// (a listener only its owner can reach, such as a Unix socket in an owner-only folder).
    /// </summary>
    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "A fault serving one client must close that client, never the VMM.")]
    public async Task ServeAsync(Stream stream, bool requirePassword, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Interlocked.Increment(ref _connections);
        Options.Counters.Connections.Add(1);
        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposed.Token);
        var connection = new VncConnection(this, stream, requirePassword ? _authentication : null);
        try
        {
            using (var handshake = CancellationTokenSource.CreateLinkedTokenSource(lifetime.Token))
            {
                handshake.CancelAfter(Options.HandshakeTimeout);
                if (!await connection.HandshakeAsync(handshake.Token).ConfigureAwait(false))
                {
                    return;
                }
            }

            await connection.RunAsync(lifetime.Token).ConfigureAwait(false);
        }
        catch (RfbProtocolException)
        {
            Interlocked.Increment(ref _protocolErrors);
            Options.Counters.ProtocolErrors.Add(1);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The client went away, timed out, or we are shutting down.
        }
        catch (Exception)
        {
            Interlocked.Increment(ref _internalErrors);
        }
        finally
        {
            if (connection.IsAttached)
            {
                // Also when the client broke between joining and its ServerInit.
                RemoveClient(connection);
            }

            connection.Dispose();
            try
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Closing a broken connection can fail; it is closed either way.
            }
        }
    }

    /// <summary>
    /// From now on the server refreshes on its own (<see cref="VncRefreshScheduler"/>): not at all while no client is
    /// connected, every <see cref="VncServerOptions.MinRefreshInterval"/> while the screen changes, backing off to
    /// <see cref="VncServerOptions.MaxRefreshInterval"/> while it is still, and at once again on input or a new client.
    /// </summary>
    /// <param name="time">The clock (the system's unless a test fakes it).</param>
    public void StartRefreshing(TimeProvider? time = null)
    {
        lock (_refreshLock)
        {
            if (_scheduler is not null || _sourceReleased)
            {
                return;
            }

            _scheduler = new VncRefreshScheduler(this, time ?? TimeProvider.System);
        }

        if (ClientCount > 0)
        {
            _scheduler.Hurry();
        }
    }

    /// <summary>
    /// Looks at the screen: reads the mode and dirty log, updates the shadow, marks what changed for every client and
    /// wakes their senders; also passes on keyboard LED changes. Cheap when nothing changed. Does nothing while no
    /// client is connected: the dirty log is not even read. True when the screen or the LEDs changed.
    /// </summary>
    public bool Refresh()
    {
        lock (_refreshLock)
        {
            VncConnection[] clients = Volatile.Read(ref _clients);
            if (clients.Length == 0 || _sourceReleased)
            {
                return false;
            }

            bool changed;
            _shadowLock.EnterWriteLock();
            try
            {
                bool resized = _shadow.Update(_source, Options.DetectScrolling);
                LastRefreshPixelsCompared = _shadow.PixelsCompared;
                changed = resized || _shadow.Scroll is not null || !_shadow.Changed.IsEmpty;
                if (changed)
                {
                    foreach (VncConnection client in clients)
                    {
                        client.OnScreenChanged(_shadow, resized);
                    }

                    _shadow.Changed.Clear();
                }
            }
            finally
            {
                _shadowLock.ExitWriteLock();
            }

            int leds = Keyboard?.Leds ?? 0;
            if (leds != _leds)
            {
                _leds = leds;
                changed = true;
                foreach (VncConnection client in clients)
                {
                    client.OnLedsChanged(leds);
                }
            }

            if (changed)
            {
                // A still screen wakes nobody: each sender has been told of everything else on its own.
                foreach (VncConnection client in clients)
                {
                    client.Wake();
                }
            }

            return changed;
        }
    }

    /// <summary>Calls <see cref="Refresh"/> every <paramref name="interval"/> until cancelled.</summary>
    public async Task RunRefreshLoopAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                _ = Refresh();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Closes every client. When it returns the server has stopped reading the source (a refresh or a joining
    /// client that had started reading is finished), so the owner may unmap the video memory behind it.
    /// </summary>
    public void Dispose()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        _disposed.Cancel();
        lock (_refreshLock)
        {
            _sourceReleased = true;
        }

        _scheduler?.Dispose();
        _authentication?.Dispose();
    }

    /// <summary>Takes a client past its handshake: it starts with the whole screen to send.</summary>
    internal bool TryAddClient(VncConnection connection, out int width, out int height)
    {
        lock (_refreshLock)
        {
            if (_sourceReleased)
            {
                width = height = 0;
                return false;
            }

            lock (_clientsLock)
            {
                if (_clients.Length >= Options.MaxClients)
                {
                    Interlocked.Increment(ref _refusedClients);
                    width = height = 0;
                    return false;
                }
            }

            _shadowLock.EnterWriteLock();
            try
            {
                if (!_shadowPrimed)
                {
                    _shadow.Invalidate();
                    bool resized = _shadow.Update(_source, detectScroll: false);
                    // Normally nobody is connected here; a client that joined while the last one was leaving is told.
                    foreach (VncConnection client in Volatile.Read(ref _clients))
                    {
                        client.OnScreenChanged(_shadow, resized);
                    }

                    _shadow.Changed.Clear();
                    _shadowPrimed = true;
                    _leds = Keyboard?.Leds ?? 0; // the new client starts with these: only a later change is news
                }

                width = _shadow.Width;
                height = _shadow.Height;
                connection.Attach(width, height, _leds);
                lock (_clientsLock)
                {
                    _clients = [.. _clients, connection];
                }
            }
            finally
            {
                _shadowLock.ExitWriteLock();
            }
        }

        // Counted first, so a refresh that finds no client cannot stop the schedule after this.
        _scheduler?.Hurry();
        return true;
    }

    /// <summary>A new client's key queue.</summary>
    internal InputFeed<int>.Client OpenKeyQueue() => _keys.Open(Options.MaxQueuedKeys);

    /// <summary>Queues a client's key event and hands the keyboard what it takes now; input also hurries the refresh.</summary>
    internal void QueueKey(InputFeed<int>.Client queue, int xtScancode, bool down)
    {
        if (Keyboard is null)
        {
            return;
        }

        queue.Add(PackKey(xtScancode, down));
        NoteInput();
    }

    /// <summary>Queues the release of a key a leaving client held, past its bound: a release is never refused.</summary>
    internal static void QueueRelease(InputFeed<int>.Client queue, int xtScancode) => queue.AddPastLimit(PackKey(xtScancode, down: false));

    /// <summary>Delivers what a closed queue still holds.</summary>
    internal void PumpKeys() => _keys.Pump();

    /// <summary>A client typed or pointed: the guest is likely to draw, so look at the screen soon.</summary>
    internal void NoteInput() => _scheduler?.Hurry();

    private static int PackKey(int xtScancode, bool down) => (xtScancode << 1) | (down ? 1 : 0);

    private bool DeliverKey(int packed) => Keyboard?.TryKeyEvent(packed >> 1, (packed & 1) != 0) ?? true;

    private void RemoveClient(VncConnection connection)
    {
        lock (_clientsLock)
        {
            _clients = Array.FindAll(_clients, c => c != connection);
            if (_clients.Length == 0)
            {
                // With nobody watching, refreshes stop; the next client starts from a fresh full compare.
                _shadowPrimed = false;
            }
        }
    }

    /// <summary>The update buffer of each client: what a stalled client holds (tests check the bound).</summary>
    internal int[] ClientOutputCapacities() => Array.ConvertAll(Volatile.Read(ref _clients), c => c.OutputCapacity);

    /// <summary>Each client's measured link and the encoder settings its last update used.</summary>
    internal LinkSettings[] ClientLinks() => Array.ConvertAll(Volatile.Read(ref _clients), c => c.LastLinkSettings);

    internal void EnterScreenRead() => _shadowLock.EnterReadLock();

    internal void ExitScreenRead() => _shadowLock.ExitReadLock();

    internal void CountAuthenticationFailure()
    {
        Interlocked.Increment(ref _authenticationFailures);
        Options.Counters.AuthenticationFailures.Add(1);
    }

    internal void CountUpdate(int rectangles)
    {
        Interlocked.Increment(ref _updates);
        Interlocked.Add(ref _rectangles, rectangles);
        Options.Counters.Updates.Add(1);
    }

    internal void CountBytes(int bytes)
    {
        Interlocked.Add(ref _bytesSent, bytes);
        Options.Counters.BytesSent.Add(bytes);
    }
}
