using System.Buffers.Binary;

namespace Platform.Engine.Vnc;

// Client-to-server messages (RFC 6143 §7.5, plus SetDesktopSize, QEMU's extended key event, and
// EnableContinuousUpdates and Fence in VncConnection.Continuous.cs). Every length a
// client states is checked before it is read; anything unknown or out of bounds ends this client.
internal sealed partial class VncConnection
{
    private const int MaxEncodings = 1024;
    private const int MaxScreens = 16;

    private async Task ReadLoopAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            byte type = (await _reader.ReadAsync(1, cancellationToken).ConfigureAwait(false)).Span[0];
            switch (type)
            {
                case RfbMessage.SetPixelFormat:
                    SetPixelFormat((await _reader.ReadAsync(3 + PixelFormat.Size, cancellationToken).ConfigureAwait(false)).Span[3..]);
                    break;
                case RfbMessage.SetEncodings:
                    await SetEncodingsAsync(cancellationToken).ConfigureAwait(false);
                    break;
                case RfbMessage.FramebufferUpdateRequest:
                    UpdateRequest((await _reader.ReadAsync(9, cancellationToken).ConfigureAwait(false)).Span);
                    break;
                case RfbMessage.KeyEvent:
                    KeyEvent((await _reader.ReadAsync(7, cancellationToken).ConfigureAwait(false)).Span);
                    break;
                case RfbMessage.PointerEvent:
                    PointerEvent((await _reader.ReadAsync(5, cancellationToken).ConfigureAwait(false)).Span);
                    break;
                case RfbMessage.ClientCutText:
                    await ClientCutTextAsync(cancellationToken).ConfigureAwait(false);
                    break;
                case RfbMessage.SetDesktopSize:
                    await SetDesktopSizeAsync(cancellationToken).ConfigureAwait(false);
                    break;
                case RfbMessage.Qemu:
                    await QemuMessageAsync(cancellationToken).ConfigureAwait(false);
                    break;
                case RfbMessage.EnableContinuousUpdates:
                    EnableContinuousUpdates((await _reader.ReadAsync(9, cancellationToken).ConfigureAwait(false)).Span);
                    break;
                case RfbMessage.Fence:
                    await FenceAsync(cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    throw new RfbProtocolException($"Unknown client message type {type}.");
            }
        }
    }

    private void SetPixelFormat(ReadOnlySpan<byte> data)
    {
        PixelFormat format = PixelFormat.Parse(data);
        if (!format.IsSupported)
        {
            throw new RfbProtocolException($"Unsupported pixel format {format}.");
        }

        var translator = new PixelTranslator(format);
        lock (_lock)
        {
            _translator = translator;
            _colourMapPending = !format.TrueColour;
        }

        Wake();
    }

    private async Task SetEncodingsAsync(CancellationToken cancellationToken)
    {
        int count = BinaryPrimitives.ReadUInt16BigEndian((await _reader.ReadAsync(3, cancellationToken).ConfigureAwait(false)).Span[1..]);
        if (count > MaxEncodings)
        {
            throw new RfbProtocolException($"SetEncodings with {count} encodings.");
        }

        int preferred = -1, compress = -1, quality = -1;
        bool copyRect = false, desktopSize = false, extendedDesktopSize = false, lastRect = false, cursor = false,
            extendedKeyEvent = false, ledState = false, fence = false, continuousUpdates = false;
        const int PerRead = RfbStreamReader.BufferSize / 4;
        for (int done = 0; done < count; done += PerRead)
        {
            int batch = Math.Min(PerRead, count - done);
            ReadOnlyMemory<byte> data = await _reader.ReadAsync(batch * 4, cancellationToken).ConfigureAwait(false);
            for (int i = 0; i < batch; i++)
            {
                int encoding = BinaryPrimitives.ReadInt32BigEndian(data.Span[(i * 4)..]);
                switch (encoding)
                {
                    case RfbEncoding.Raw or RfbEncoding.Zrle or RfbEncoding.Tight when preferred < 0:
                        preferred = encoding;   // the first pixel encoding we know, in the client's order of preference
                        break;
                    case RfbEncoding.CopyRect:
                        copyRect = true;
                        break;
                    case RfbEncoding.DesktopSize:
                        desktopSize = true;
                        break;
                    case RfbEncoding.ExtendedDesktopSize:
                        extendedDesktopSize = true;
                        break;
                    case RfbEncoding.LastRect:
                        lastRect = true;
                        break;
                    case RfbEncoding.Cursor:
                        cursor = true;
                        break;
                    case RfbEncoding.QemuExtendedKeyEvent:
                        extendedKeyEvent = true;
                        break;
                    case RfbEncoding.QemuLedState:
                        ledState = true;
                        break;
                    case RfbEncoding.Fence:
                        fence = true;
                        break;
                    case RfbEncoding.ContinuousUpdates:
                        continuousUpdates = true;
                        break;
                    case >= RfbEncoding.CompressLevel0 and <= RfbEncoding.CompressLevel9 when compress < 0:
                        compress = encoding - RfbEncoding.CompressLevel0;
                        break;
                    case >= RfbEncoding.QualityLevel0 and <= RfbEncoding.QualityLevel9 when quality < 0:
                        quality = encoding - RfbEncoding.QualityLevel0;
                        break;
                }
            }
        }

        var encodings = new ClientEncodings(
            preferred < 0 ? RfbEncoding.Raw : preferred, copyRect, desktopSize, extendedDesktopSize, lastRect, cursor,
            extendedKeyEvent, ledState, compress, quality, fence, continuousUpdates);
        lock (_lock)
        {
            ClientEncodings before = _encodings;
            _encodings = encodings;
            AnnounceFlowControl(before, encodings);
            // Each extension is confirmed by sending its pseudo-rectangle once the client asks for it.
            _extendedKeyAckPending |= encodings.ExtendedKeyEvent && !before.ExtendedKeyEvent;
            if (encodings.LedState && !before.LedState)
            {
                _ledsPending = _leds;
            }

            if (encodings.Cursor && !before.Cursor)
            {
                _cursorVersionSent = 0;
            }

            if (encodings.CanResize && (_dirty.Width != _width || _dirty.Height != _height))
            {
                _resizePending = true;   // the screen changed size while this client could not be told
            }

            if (!encodings.CopyRect)
            {
                DropPendingCopy();
            }
        }

        Wake();
    }

    private void UpdateRequest(ReadOnlySpan<byte> data)
    {
        bool incremental = data[0] != 0;
        var rect = new PixelRect(
            BinaryPrimitives.ReadUInt16BigEndian(data[1..]),
            BinaryPrimitives.ReadUInt16BigEndian(data[3..]),
            BinaryPrimitives.ReadUInt16BigEndian(data[5..]),
            BinaryPrimitives.ReadUInt16BigEndian(data[7..]));
        lock (_lock)
        {
            if (incremental && !_continuous)
            {
                // Without continuous updates a client asks again once it has taken in the last update.
                Link.Acknowledged(System.Diagnostics.Stopwatch.GetTimestamp());
            }

            if (_updateRequested)
            {
                // Requests before an update is sent merge: one update may answer several (RFC 6143 §7.5.3).
                int x = Math.Min(_requested.X, rect.X), y = Math.Min(_requested.Y, rect.Y);
                rect = new PixelRect(x, y, Math.Max(_requested.Right, rect.Right) - x, Math.Max(_requested.Bottom, rect.Bottom) - y);
            }

            _requested = rect;
            _updateRequested = true;
            if (!incremental)
            {
                _dirty.SetRect(rect);
                DropPendingCopy();   // the client asks for pixels, not copies (RFC 6143 §7.5.3)
                if (_encodings.ExtendedDesktopSize && _desktopSizeReason < 0)
                {
                    _desktopSizeReason = RfbDesktopSize.ReasonServer;
                    _desktopSizeStatus = RfbDesktopSize.StatusOk;
                }
            }
        }

        Wake();
    }

    /// <summary>Forgets a queued CopyRect; its destination is then sent as pixels. Called under <see cref="_lock"/>.</summary>
    private void DropPendingCopy()
    {
        if (_pendingCopy is { } copy)
        {
            _dirty.SetRect(copy.Destination(_dirty.Width));
            _pendingCopy = null;
        }
    }

    private void KeyEvent(ReadOnlySpan<byte> data)
    {
        bool down = data[0] != 0;
        uint keysym = BinaryPrimitives.ReadUInt32BigEndian(data[3..]);
        int scancode = KeysymTranslator.ToScancode(keysym);
        if (scancode != 0)
        {
            Key(scancode, down);
        }
    }

    private void Key(int scancode, bool down)
    {
        int slot = (scancode & 0xFF) | (scancode >= 0xE000 ? 0x100 : 0);
        _keysDown[slot] = down;
        _server.QueueKey(_keyQueue, scancode, down);
    }

    private void PointerEvent(ReadOnlySpan<byte> data)
    {
        int buttons = data[0];
        int x = BinaryPrimitives.ReadUInt16BigEndian(data[1..]);
        int y = BinaryPrimitives.ReadUInt16BigEndian(data[3..]);
        int width, height;
        lock (_lock)
        {
            width = _width;
            height = _height;
        }

        if (width <= 0 || height <= 0)
        {
            return;
        }

        _lastPointer = (Math.Min(x, width - 1), Math.Min(y, height - 1), buttons, width, height);
        _server.Pointer?.PointerEvent(_lastPointer.X, _lastPointer.Y, buttons, width, height);
        _server.NoteInput();
    }

    private async Task ClientCutTextAsync(CancellationToken cancellationToken)
    {
        uint length = BinaryPrimitives.ReadUInt32BigEndian((await _reader.ReadAsync(7, cancellationToken).ConfigureAwait(false)).Span[3..]);
        if (length > (uint)_server.Options.MaxClientCutText)
        {
            // Also what an extended-clipboard message (a negative length) looks like: we never offered that extension.
            throw new RfbProtocolException($"ClientCutText of {length} bytes.");
        }

        // No guest clipboard yet: the text is read past.
        await _reader.SkipAsync(length, cancellationToken).ConfigureAwait(false);
    }

    private async Task SetDesktopSizeAsync(CancellationToken cancellationToken)
    {
        ReadOnlyMemory<byte> header = await _reader.ReadAsync(7, cancellationToken).ConfigureAwait(false);
        int screens = header.Span[5];
        if (screens is 0 or > MaxScreens)
        {
            throw new RfbProtocolException($"SetDesktopSize with {screens} screens.");
        }

        await _reader.SkipAsync(screens * 16, cancellationToken).ConfigureAwait(false);
        lock (_lock)
        {
            // The guest chooses its mode; a viewer cannot resize it. Say so, as the extension requires.
            _desktopSizeReason = RfbDesktopSize.ReasonThisClient;
            _desktopSizeStatus = RfbDesktopSize.StatusProhibited;
        }

        Wake();
    }

    private async Task QemuMessageAsync(CancellationToken cancellationToken)
    {
        byte subtype = (await _reader.ReadAsync(1, cancellationToken).ConfigureAwait(false)).Span[0];
        if (subtype != RfbMessage.QemuExtendedKeyEvent)
        {
            throw new RfbProtocolException($"QEMU client message {subtype} was not negotiated.");
        }

        ReadOnlyMemory<byte> data = await _reader.ReadAsync(10, cancellationToken).ConfigureAwait(false);
        bool down = BinaryPrimitives.ReadUInt16BigEndian(data.Span) != 0;
        uint keysym = BinaryPrimitives.ReadUInt32BigEndian(data.Span[2..]);
        uint keycode = BinaryPrimitives.ReadUInt32BigEndian(data.Span[6..]);
        // The keycode is the XT scancode with bit 7 marking an 0xE0-prefixed key (QEMU's "qnum"); 0 means unknown.
        int scancode = keycode switch
        {
            >= 0x01 and <= 0x7F => (int)keycode,
            >= 0x81 and <= 0xFF => 0xE000 | (int)(keycode & 0x7F),
            _ => KeysymTranslator.ToScancode(keysym),
        };
        if (scancode != 0)
        {
            Key(scancode, down);
        }
    }
}
