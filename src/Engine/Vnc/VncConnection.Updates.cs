using Platform.Engine.Vnc.Encoders;

namespace Platform.Engine.Vnc;

// The sender: waits to be woken, builds everything owed to the client into one buffer, writes it, and waits again.
// Size changes go as their own FramebufferUpdate (as QEMU sends them, without waiting for a request, so a client that
// asked once for a full screen still gets it); pixels go in answer to a request, or as they change in continuous mode
// (VncConnection.Continuous.cs).
internal sealed partial class VncConnection
{
    private const int DefaultZlibLevel = 6;

    /// <summary>How fast this client takes updates in, and the settings chosen from it (<see cref="LinkEstimator"/>).</summary>
    internal LinkEstimator Link { get; } = new();

    /// <summary>The settings the last pixel update was encoded with.</summary>
    internal LinkSettings LastLinkSettings { get; private set; }

    private async Task SendLoopAsync(CancellationToken cancellationToken)
    {
        // The wait takes no token: waking a WaitAsync(token) costs the waker an allocation (the token's wait runs its
        // continuation through a queued invoker object), and the waker is the refresh, which must not allocate.
        // Cancellation wakes the sender instead, which then sees it.
        using CancellationTokenRegistration wakeOnCancel = cancellationToken.UnsafeRegister(
            static connection => ((VncConnection)connection!).Wake(), this);
        while (true)
        {
            await _wake.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            while (BuildMessages())
            {
                _server.CountBytes(_output.Length);
                if (_builtAcknowledgedUpdate)
                {
                    Link.Sent(_output.Length, System.Diagnostics.Stopwatch.GetTimestamp());
                }

                await _stream.WriteAsync(_output.WrittenMemory, cancellationToken).ConfigureAwait(false);
                await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Builds what the client is owed into <see cref="_output"/>; false when there is nothing.</summary>
    internal bool BuildMessages()
    {
        _output.Clear();
        _builtAcknowledgedUpdate = false;
        _server.EnterScreenRead();
        try
        {
            ScreenShadow shadow = _server.Shadow;
            PixelTranslator translator;
            ClientEncodings encodings;
            bool resize, pixels, extendedKeyAck;
            int desktopReason, desktopStatus, leds, width, height;
            VncCursor? cursor = null;
            ScrollMove? copy = null;
            bool fenceAfter = false;
            lock (_lock)
            {
                translator = _translator;
                encodings = _encodings;
                WriteFlowControlMessages();
                if (_colourMapPending)
                {
                    _colourMapPending = false;
                    _output.WriteByte(RfbMessage.SetColourMapEntries);
                    _output.WriteByte(0);
                    _output.WriteUInt16(0);
                    _output.WriteUInt16(256);
                    PixelTranslator.WriteColourMap(_output);
                }

                resize = _resizePending && encodings.CanResize;
                _resizePending = false;
                if (resize)
                {
                    _width = shadow.Width;
                    _height = shadow.Height;
                }

                width = _width;
                height = _height;
                desktopReason = encodings.ExtendedDesktopSize ? _desktopSizeReason : -1;
                desktopStatus = _desktopSizeStatus;
                _desktopSizeReason = -1;

                // In continuous mode updates of the client's area go as things change; a request adds its own area.
                bool continuous = ContinuousUpdateDue(encodings, out PixelRect continuousArea);
                PixelRect wanted = !continuous ? _requested : _updateRequested ? Union(_requested, continuousArea) : continuousArea;
                pixels = _updateRequested || continuous;
                extendedKeyAck = false;
                leds = -1;
                if (pixels)
                {
                    extendedKeyAck = _extendedKeyAckPending;
                    leds = encodings.LedState ? _ledsPending : -1;
                    int cursorVersion = _server.CursorVersion;
                    if (encodings.Cursor && cursorVersion != _cursorVersionSent)
                    {
                        cursor = _server.Cursor;
                        _cursorVersionSent = cursorVersion;
                    }

                    copy = _pendingCopy;
                    _pendingCopy = null;
                    _rectangles.Clear();
                    var visible = new PixelRect(0, 0, Math.Min(width, shadow.Width), Math.Min(height, shadow.Height));
                    _dirty.TakeRectangles(wanted.Intersect(visible), _rectangles);
                    for (int i = 0; i < _rectangles.Count; i++)
                    {
                        _rectangles[i] = _rectangles[i].Intersect(visible);
                    }

                    _rectangles.RemoveAll(r => r.IsEmpty);
                    pixels = extendedKeyAck || leds >= 0 || cursor is not null || copy is not null || _rectangles.Count > 0;
                    if (pixels)
                    {
                        _updateRequested = false;
                        _extendedKeyAckPending = false;
                        _ledsPending = -1;
                        // A fence after each continuous update tells when the client has taken it in.
                        fenceAfter = continuous && encodings.Fence;
                        _updatesInFlight += fenceAfter ? 1 : 0;
                        // Its fence's answer, or (without continuous updates) the client's next request, says it arrived.
                        _builtAcknowledgedUpdate = fenceAfter || !continuous;
                    }
                }
            }

            if (resize)
            {
                WriteSizeUpdate(encodings, RfbDesktopSize.ReasonServer, RfbDesktopSize.StatusOk, width, height);
            }

            if (desktopReason >= 0 && !(resize && desktopReason == RfbDesktopSize.ReasonServer))
            {
                WriteSizeUpdate(encodings, desktopReason, desktopStatus, width, height);
            }

            if (pixels)
            {
                WritePixelUpdate(shadow, translator, encodings, width, height, extendedKeyAck, leds, cursor, copy);
                if (fenceAfter)
                {
                    WriteUpdateFence();
                }
            }

            return _output.Length > 0;
        }
        finally
        {
            _server.ExitScreenRead();
        }
    }

    private static PixelRect Union(PixelRect a, PixelRect b)
    {
        int x = Math.Min(a.X, b.X), y = Math.Min(a.Y, b.Y);
        return new PixelRect(x, y, Math.Max(a.Right, b.Right) - x, Math.Max(a.Bottom, b.Bottom) - y);
    }

    private void WriteSizeUpdate(ClientEncodings encodings, int reason, int status, int width, int height)
    {
        _output.WriteByte(RfbMessage.FramebufferUpdate);
        _output.WriteByte(0);
        _output.WriteUInt16(1);
        if (encodings.ExtendedDesktopSize)
        {
            _output.WriteRectangleHeader(reason, status, width, height, RfbEncoding.ExtendedDesktopSize);
            _output.WriteByte(1);            // one screen
            _output.WriteByte(0);
            _output.WriteUInt16(0);
            _output.WriteUInt32(0);          // its id
            _output.WriteUInt16(0);
            _output.WriteUInt16(0);
            _output.WriteUInt16((ushort)width);
            _output.WriteUInt16((ushort)height);
            _output.WriteUInt32(0);          // flags
        }
        else
        {
            _output.WriteRectangleHeader(0, 0, width, height, RfbEncoding.DesktopSize);
        }

        _server.CountUpdate(1);
    }

    private void WritePixelUpdate(
        ScreenShadow shadow, PixelTranslator translator, ClientEncodings encodings, int width, int height,
        bool extendedKeyAck, int leds, VncCursor? cursor, ScrollMove? copy)
    {
        _output.WriteByte(RfbMessage.FramebufferUpdate);
        _output.WriteByte(0);
        int countAt = _output.Length;
        _output.WriteUInt16(0);
        int count = 0;
        if (extendedKeyAck)
        {
            _output.WriteRectangleHeader(0, 0, width, height, RfbEncoding.QemuExtendedKeyEvent);
            count++;
        }

        if (leds >= 0)
        {
            _output.WriteRectangleHeader(0, 0, 1, 1, RfbEncoding.QemuLedState);
            _output.WriteByte((byte)leds);
            count++;
        }

        if (cursor is not null)
        {
            WriteCursor(cursor, translator);
            count++;
        }

        if (copy is { } scroll)
        {
            CopyRectEncoder.Encode(scroll.Destination(shadow.Width), 0, scroll.SourceY, _output);
            count++;
        }

        // Room for the rectangles as raw pixels (what compression rarely exceeds), in one step: the buffer stays about
        // the size of the largest update, which for a full screen is one framebuffer in the client's format.
        long pixelCount = 0;
        foreach (PixelRect rect in _rectangles)
        {
            pixelCount += (long)rect.Width * rect.Height;
        }

        _output.Reserve((int)Math.Min((pixelCount * translator.BytesPerPixel) + (_rectangles.Count * 64L) + 1024, int.MaxValue / 2));
        var screen = new ScreenPixels(shadow.Pixels, shadow.Width);
        // The client's levels, adapted to how fast it takes updates in (LinkEstimator). Tight has its own default level.
        // A level change continues the zlib streams the client has (ZlibChannel), for Tight and ZRLE alike.
        LinkSettings link = Link.Choose(encodings.CompressLevel, encodings.QualityLevel,
            encodings.Preferred == RfbEncoding.Tight ? TightEncoder.DefaultLevel : DefaultZlibLevel);
        LastLinkSettings = link;
        foreach (PixelRect rect in _rectangles)
        {
            switch (encodings.Preferred)
            {
                case RfbEncoding.Zrle:
                    _zrle ??= new ZrleEncoder();
                    _zrle.SetLevel(link.CompressLevel);
                    _zrle.Encode(screen, rect, translator, _output);
                    count++;
                    break;
                case RfbEncoding.Tight:
                    _tight ??= new TightEncoder();
                    _tight.SetLevel(link.CompressLevel);
                    _tight.SetQuality(link.JpegQuality);
                    count += _tight.Encode(screen, rect, translator, _output);
                    break;
                default:
                    RawEncoder.Encode(screen, rect, translator, _output);
                    count++;
                    break;
            }
        }

        if (count >= ushort.MaxValue && encodings.LastRect)
        {
            // Too many for the count field: it then says "until LastRect". We know the count otherwise and always
            // send it, because some clients that list LastRect (vncsnapshot) mishandle it. A client without LastRect
            // never gets this many: at most 8 rectangles per tile row, and Tight pieces of 64K pixels.
            _output.PatchUInt16(countAt, ushort.MaxValue);
            _output.WriteRectangleHeader(0, 0, 0, 0, RfbEncoding.LastRect);
        }
        else
        {
            _output.PatchUInt16(countAt, (ushort)count);
        }

        _server.CountUpdate(count);
    }

    private void WriteCursor(VncCursor cursor, PixelTranslator translator)
    {
        _output.WriteRectangleHeader(cursor.HotspotX, cursor.HotspotY, cursor.Width, cursor.Height, RfbEncoding.Cursor);
        foreach (uint pixel in cursor.Pixels)
        {
            _output.Advance(translator.WritePixel(pixel, _output.GetSpan(4)));
        }

        foreach (byte maskByte in cursor.Mask)
        {
            _output.WriteByte(maskByte);
        }
    }
}
