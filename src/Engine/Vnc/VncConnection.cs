using Platform.Engine.Host;
using Platform.Engine.Vnc.Encoders;

namespace Platform.Engine.Vnc;

/// <summary>What a client said it can decode (SetEncodings), reduced to what we use.</summary>
internal readonly record struct ClientEncodings(
    int Preferred,
    bool CopyRect,
    bool DesktopSize,
    bool ExtendedDesktopSize,
    bool LastRect,
    bool Cursor,
    bool ExtendedKeyEvent,
    bool LedState,
    int CompressLevel,
    int QualityLevel,
    bool Fence,
    bool ContinuousUpdates)
{
    /// <summary>Before SetEncodings a client gets Raw only (RFC 6143 §7.5.2).</summary>
    public static ClientEncodings Initial { get; } = new(RfbEncoding.Raw, false, false, false, false, false, false, false, -1, -1, false, false);

    public bool CanResize => DesktopSize || ExtendedDesktopSize;
}

/// <summary>
/// One client of a <see cref="VncServer"/>: the handshake, then a reader of its messages and a sender of its updates.
/// State both sides share is guarded by <see cref="_lock"/>; the screen by the server's shadow lock, always taken
/// first. Only the sender writes to the stream once the handshake is done.
/// </summary>
internal sealed partial class VncConnection : IDisposable
{
    private const int KeySlots = 0x200;   // XT code | 0x100 for extended keys

    private readonly VncServer _server;
    private readonly VncAuthentication? _authentication;
    private readonly Stream _stream;
    private readonly RfbStreamReader _reader;
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly RfbBuffer _output = new();
    private readonly DirtyTiles _dirty = new();
    private readonly List<PixelRect> _rectangles = [];
    private readonly bool[] _keysDown = new bool[KeySlots];
    private readonly InputFeed<int>.Client _keyQueue;
    private (int X, int Y, int Buttons, int Width, int Height) _lastPointer;   // the reader's alone
    private ZrleEncoder? _zrle;
    private TightEncoder? _tight;

    // Shared with the reader, under _lock.
    private PixelTranslator _translator = new(PixelFormat.Native);
    private ClientEncodings _encodings = ClientEncodings.Initial;
    private bool _updateRequested;
    private bool _builtAcknowledgedUpdate; // the last BuildMessages made an update the client will acknowledge (sender only)
    private PixelRect _requested;
    private int _width;               // the framebuffer size this client knows
    private int _height;
    private bool _resizePending;
    private int _desktopSizeReason = -1;   // an ExtendedDesktopSize reply to send: reason, status
    private int _desktopSizeStatus;
    private bool _extendedKeyAckPending;
    private int _ledsPending = -1;
    private int _leds;
    private int _cursorVersionSent;
    private bool _colourMapPending;
    private ScrollMove? _pendingCopy;

    /// <param name="authentication">The password check this client must pass; null offers security type None.</param>
    public VncConnection(VncServer server, Stream stream, VncAuthentication? authentication)
    {
        _server = server;
        _stream = stream;
        _authentication = authentication;
        _reader = new RfbStreamReader(stream);
        _keyQueue = server.OpenKeyQueue();
    }

    /// <summary>The protocol minor version agreed: 3, 7 or 8.</summary>
    public int MinorVersion { get; private set; }

    /// <summary>True once the server counts this client among its clients (it must then be removed).</summary>
    public bool IsAttached { get; private set; }

    /// <summary>The size of the array this client's updates are built in (what a stalled client costs, plus zlib).</summary>
    public int OutputCapacity => _output.Capacity;

    /// <summary>Called once, under the server's screen lock, when the client joins: it starts with everything to send.</summary>
    public void Attach(int width, int height, int leds)
    {
        lock (_lock)
        {
            _width = width;
            _height = height;
            _leds = leds;
            _dirty.Resize(width, height);
            _dirty.SetAll();
            IsAttached = true;
        }
    }

    /// <summary>Under the server's write lock after a refresh: adds what changed to this client's tiles.</summary>
    public void OnScreenChanged(ScreenShadow shadow, bool resized)
    {
        lock (_lock)
        {
            if (resized)
            {
                _dirty.Resize(shadow.Width, shadow.Height);
                _dirty.SetAll();
                _pendingCopy = null;
                _resizePending = _encodings.CanResize && (shadow.Width != _width || shadow.Height != _height);
                return;
            }

            if (shadow.Scroll is { } scroll)
            {
                // A CopyRect is right only if this client's picture of the source lines is the server's old one:
                // nothing there waits to be sent, no other copy is queued, and it sees the same screen size.
                bool canCopy = _encodings.CopyRect && _pendingCopy is null && !_resizePending
                    && _width == shadow.Width && _height == shadow.Height
                    && !_dirty.AnySet(scroll.Source(shadow.Width));
                if (canCopy)
                {
                    _pendingCopy = scroll;
                }
                else
                {
                    _dirty.SetRect(scroll.Destination(shadow.Width));
                }
            }

            _dirty.UnionWith(shadow.Changed);
        }
    }

    public void OnLedsChanged(int leds)
    {
        lock (_lock)
        {
            _leds = leds;
            if (_encodings.LedState)
            {
                _ledsPending = leds;
            }
        }
    }

    /// <summary>Tells the sender to look for work.</summary>
    public void Wake()
    {
        if (_wake.CurrentCount == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (SemaphoreFullException)
            {
                // Another thread woke it first: one wake-up is enough.
            }
        }
    }

    /// <summary>Runs the reader and the sender until either ends; rethrows what ended the first.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var both = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task sender = SendLoopAsync(both.Token);
        Task reader = ReadLoopAsync(both.Token);
        Task first = await Task.WhenAny(sender, reader).ConfigureAwait(false);
        await both.CancelAsync().ConfigureAwait(false);
        // A stream read or write that does not watch the token ends when the stream closes.
        await _stream.DisposeAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(sender, reader).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or RfbProtocolException)
        {
            // The other loop ended because we stopped it; what matters is why the first one ended.
        }

        await first.ConfigureAwait(false);
    }

    public void Dispose()
    {
        ReleaseKeys();
        ReleaseButtons();
        _zrle?.Dispose();
        _tight?.Dispose();
        _output.Dispose();
        // _wake is not disposed: a refresh may still wake this client after it left, and a SemaphoreSlim that never
        // made a wait handle holds nothing to free.
    }

    /// <summary>Lets go of the pointer buttons this client left held, so a viewer closed mid-drag leaves no drag.</summary>
    private void ReleaseButtons()
    {
        var (x, y, buttons, width, height) = _lastPointer;
        if ((buttons & 0b111) != 0)
        {
            _server.Pointer?.PointerEvent(x, y, 0, width, height);
        }
    }

    /// <summary>
    /// Lifts every key this client left pressed, so a viewer closed mid-chord leaves no stuck Ctrl: the releases go
    /// after what it typed, which is still delivered.
    /// </summary>
    private void ReleaseKeys()
    {
        for (int slot = 0; slot < KeySlots; slot++)
        {
            if (_keysDown[slot])
            {
                _keysDown[slot] = false;
                VncServer.QueueRelease(_keyQueue, slot >= 0x100 ? 0xE000 | (slot & 0xFF) : slot);
            }
        }

        _keyQueue.Close();
        _server.PumpKeys();
    }
}
