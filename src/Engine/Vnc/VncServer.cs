using System.Diagnostics.CodeAnalysis;

namespace Platform.Engine.Vnc;

/// <summary>
/// An RFB 3.8 server (RFC 6143; 3.3 and 3.7 clients too) for one VM's screen, keyboard and pointer. It knows no
/// sockets: the engine accepts connections (on <c>vnc.sock</c>, or a TCP listener) and hands each stream to
/// <see cref="ServeAsync"/>, and calls <see cref="Refresh"/> on a timer (or runs <see cref="RunRefreshLoopAsync"/>).
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
    /// Looks at the screen: reads the mode and dirty log, updates the shadow, marks what changed for every client and
    /// wakes their senders; also passes on keyboard LED changes. Cheap when nothing changed. Call it at the frame rate
    /// wanted (30–60 Hz); does nothing while no client is connected.
    /// </summary>
    public void Refresh()
    {
        lock (_refreshLock)
        {
            VncConnection[] clients = Volatile.Read(ref _clients);
            if (clients.Length == 0 || _sourceReleased)
            {
                return;
            }

            _shadowLock.EnterWriteLock();
            try
            {
                bool resized = _shadow.Update(_source, Options.DetectScrolling);
                LastRefreshPixelsCompared = _shadow.PixelsCompared;
                foreach (VncConnection client in clients)
                {
                    client.OnScreenChanged(_shadow, resized);
                }

                _shadow.Changed.Clear();
            }
            finally
            {
                _shadowLock.ExitWriteLock();
            }

            int leds = Keyboard?.Leds ?? 0;
            if (leds != _leds)
            {
                _leds = leds;
                foreach (VncConnection client in clients)
                {
                    client.OnLedsChanged(leds);
                }
            }

            foreach (VncConnection client in clients)
            {
                client.Wake();
            }
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
                Refresh();
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
                }

                width = _shadow.Width;
                height = _shadow.Height;
                connection.Attach(width, height, _leds < 0 ? Keyboard?.Leds ?? 0 : _leds);
                lock (_clientsLock)
                {
                    _clients = [.. _clients, connection];
                }
            }
            finally
            {
                _shadowLock.ExitWriteLock();
            }

            return true;
        }
    }

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
