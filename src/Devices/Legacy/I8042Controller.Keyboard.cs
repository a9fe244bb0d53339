namespace Platform.Devices.Legacy;

// The PS/2 keyboard behind the controller: its commands, and host key events turned into the guest's scancodes.
public sealed partial class I8042Controller
{
    private const int MaxKeySequence = 8;     // Pause, the longest: E1 14 77 E1 F0 14 F0 77 in set 2
    private const byte Set1Extended = 0xE0;
    private const byte Set1Pause = 0xE1;
    private const byte Set1Break = 0x80;
    private const byte Set2Break = 0xF0;

    private const byte XtLeftShift = 0x2A;
    private const byte XtRightShift = 0x36;
    private const byte XtCtrl = 0x1D;          // left; right is E0 1D
    private const byte XtAlt = 0x38;           // left; right is E0 38
    private const byte XtPrintScreen = 0x37;   // with E0
    private const byte XtPauseBreak = 0x46;    // with E0: Pause, or Break while Ctrl is down
    private const byte XtSysRq = 0x54;         // what PrintScreen sends while Alt is down
    private const byte XtNumLock = 0x45;

    // Command replies go ahead of key bytes (QEMU's ps2 does the same), and each has its own room so a full key
    // buffer never swallows an ACK the guest's driver is waiting for.
    private readonly Queue<byte> _keyboardReplies = new(DeviceQueueSize);
    private readonly Queue<byte> _keyboardKeys = new(DeviceQueueSize);

    private byte _keyboardAwaiting;   // a keyboard command waiting for its parameter byte; 0 if none
    private bool _scanning;
    private byte _scancodeSet;
    private byte _leds;
    private byte _keyboardLastSent;
    private HeldModifiers _modifiers;
    private bool _keyRoomWanted;      // a TryKeyEvent was refused: tell the host when there is room

    [Flags]
    private enum HeldModifiers : byte
    {
        None = 0,
        LeftShift = 1,
        RightShift = 2,
        LeftCtrl = 4,
        RightCtrl = 8,
        LeftAlt = 16,
        RightAlt = 32,
    }

    /// <summary>The keyboard LEDs the guest set with command 0xED: bit 0 Scroll Lock, bit 1 Num Lock, bit 2 Caps Lock.</summary>
    public byte Leds
    {
        get
        {
            lock (_lock)
            {
                return _leds;
            }
        }
    }

    /// <summary>The scancode set the keyboard is in (1, 2 or 3; 2 after reset), as the guest chose with 0xF0.</summary>
    public int ScancodeSet
    {
        get
        {
            lock (_lock)
            {
                return _scancodeSet;
            }
        }
    }

    /// <summary>
    /// A key went down or up on the host. <paramref name="xtScancode"/> is the key's set-1 (XT) make code: 0x01–0x7F
    /// for an ordinary key, and for an extended key (sent with an 0xE0 prefix) any of <c>0xE0xx</c> (noVNC's and
    /// Windows' form), <c>0x80 | xx</c> (the RFB "QEMU Extended Key Event" wire form, QEMU's qnum) or
    /// <c>0x100 | xx</c> (SPICE's form). Anything else is ignored.
    /// </summary>
    /// <remarks>
    /// The keyboard sends the key in the scancode set the guest chose; with the controller's translation bit on (the
    /// default) the guest sees set 1 — make, make | 0x80 for break, 0xE0 before extended keys — and without it set 2
    /// (make, F0 make for break). Set 3 is accepted by the 0xF0 command but keys still go out with set-2 codes.
    /// Print Screen (E0 37) and Pause (E0 46) send the special sequences a real keyboard sends for the modifiers
    /// held: Print Screen with a fake shift (E0 2A E0 37), as plain E0 37 under Shift or Ctrl, or as SysRq (54)
    /// under Alt; Pause as E1 1D 45 E1 9D C5 on press and nothing on release, or as Break (E0 46 E0 C6) under Ctrl.
    /// Keys are dropped while the guest has scanning disabled (0xF5), as a real keyboard does; while the guest has
    /// the keyboard interface disabled in the command byte they wait in the keyboard's 16-byte buffer. A sequence
    /// that does not fit the buffer is dropped whole and counted in <see cref="DroppedBytes"/> (a host that must not
    /// lose keys uses <see cref="TryKeyEvent"/> and waits for room instead). Auto-repeat is the
    /// host's: repeated presses arrive as repeated calls, so the typematic rate (0xF3) is accepted and ignored.
    /// </remarks>
    public void KeyEvent(int xtScancode, bool down)
    {
        if (!TryKeyEvent(xtScancode, down))
        {
            lock (_lock)
            {
                DroppedBytes += KeySequenceLength(xtScancode, down);
                _keyRoomWanted = false; // nobody will offer it again
            }
        }
    }

    /// <summary>
    /// Offers a key event as <see cref="KeyEvent"/> does, but never drops it: false when its bytes do not fit the
    /// keyboard's buffer now, with nothing changed, and <see cref="KeyboardRoomAvailable"/> is called once the guest
    /// has read half the buffer, so the host can offer it again (back-pressure: a paste arrives whole and in order
    /// however slowly the guest reads). True when it was queued, or dropped on purpose because the guest has
    /// scanning disabled or the key is unknown.
    /// </summary>
    public bool TryKeyEvent(int xtScancode, bool down)
    {
        if (!TryDecodeXt(xtScancode, out byte code, out bool extended))
        {
            return true;
        }

        lock (_lock)
        {
            HeldModifiers before = _modifiers;
            NoteModifier(code, extended, down);
            if (!_scanning)
            {
                return true;
            }

            Span<byte> set1 = stackalloc byte[MaxKeySequence];
            int length = BuildSet1Sequence(code, extended, down, set1);
            Span<byte> sent = stackalloc byte[MaxKeySequence * 2];
            int sentLength = EncodeForGuest(set1[..length], sent);
            if (sentLength == 0)
            {
                return true;
            }

            if (_keyboardKeys.Count + sentLength > DeviceQueueSize)
            {
                _modifiers = before; // as if the key had not been offered
                _keyRoomWanted = true;
                return false;
            }

            foreach (byte b in sent[..sentLength])
            {
                _keyboardKeys.Enqueue(b);
            }

            Refill();
            UpdateInterrupts();
            return true;
        }
    }

    /// <summary>
    /// Called after the guest made room in the keyboard's buffer following a refused <see cref="TryKeyEvent"/>: on the
    /// thread of the guest's access (a vCPU thread), outside the device's lock. Keep it short (queue work elsewhere).
    /// </summary>
    public Action? KeyboardRoomAvailable { get; set; }

    /// <summary>How many bytes the guest would have got for the key (what a drop counts).</summary>
    private int KeySequenceLength(int xtScancode, bool down)
    {
        if (!TryDecodeXt(xtScancode, out byte code, out bool extended))
        {
            return 0;
        }

        Span<byte> set1 = stackalloc byte[MaxKeySequence];
        Span<byte> sent = stackalloc byte[MaxKeySequence * 2];
        return EncodeForGuest(set1[..BuildSet1Sequence(code, extended, down, set1)], sent);
    }

    /// <summary>
    /// True once after a refusal when the buffer is half empty (under the lock): the caller then calls
    /// <see cref="KeyboardRoomAvailable"/> after releasing it. Half, so a paste moves in batches of at least a
    /// Pause key's 8 bytes rather than one callback per byte read.
    /// </summary>
    private bool TakeKeyboardRoomSignal()
    {
        if (!_keyRoomWanted || _keyboardKeys.Count > DeviceQueueSize / 2)
        {
            return false;
        }

        _keyRoomWanted = false;
        return true;
    }

    private static bool TryDecodeXt(int xtScancode, out byte code, out bool extended)
    {
        (int low, extended) = xtScancode switch
        {
            >= 0x01 and <= 0x7F => (xtScancode, false),
            >= 0x81 and <= 0xFF => (xtScancode & 0x7F, true),
            >= 0x101 and <= 0x17F => (xtScancode & 0x7F, true),
            >= 0xE001 and <= 0xE07F => (xtScancode & 0x7F, true),
            _ => (0, false),
        };
        code = (byte)low;
        return low != 0;
    }

    private void NoteModifier(byte code, bool extended, bool down)
    {
        HeldModifiers modifier = (code, extended) switch
        {
            (XtLeftShift, false) => HeldModifiers.LeftShift,
            (XtRightShift, false) => HeldModifiers.RightShift,
            (XtCtrl, false) => HeldModifiers.LeftCtrl,
            (XtCtrl, true) => HeldModifiers.RightCtrl,
            (XtAlt, false) => HeldModifiers.LeftAlt,
            (XtAlt, true) => HeldModifiers.RightAlt,
            _ => HeldModifiers.None,
        };
        _modifiers = down ? _modifiers | modifier : _modifiers & ~modifier;
    }

    /// <summary>The set-1 bytes a real keyboard sends for this key, given the modifiers held.</summary>
    private int BuildSet1Sequence(byte code, bool extended, bool down, Span<byte> sequence)
    {
        byte breakBit = down ? (byte)0 : Set1Break;
        bool shift = (_modifiers & (HeldModifiers.LeftShift | HeldModifiers.RightShift)) != 0;
        bool ctrl = (_modifiers & (HeldModifiers.LeftCtrl | HeldModifiers.RightCtrl)) != 0;
        bool alt = (_modifiers & (HeldModifiers.LeftAlt | HeldModifiers.RightAlt)) != 0;

        if (extended && code == XtPrintScreen)
        {
            if (alt)
            {
                sequence[0] = (byte)(XtSysRq | breakBit);
                return 1;
            }

            if (shift || ctrl)
            {
                return Extended(XtPrintScreen, breakBit, sequence);
            }

            // Unshifted, the key pretends Shift went down first so old drivers see "Shift+*" as Print Screen.
            return down
                ? Extended(XtLeftShift, 0, sequence) + Extended(XtPrintScreen, 0, sequence[2..])
                : Extended(XtPrintScreen, Set1Break, sequence) + Extended(XtLeftShift, Set1Break, sequence[2..]);
        }

        if (extended && code == XtPauseBreak)
        {
            if (!down)
            {
                return 0; // Pause has no break code: its make already contains Ctrl+NumLock's press and release
            }

            if (ctrl)
            {
                return Extended(XtPauseBreak, 0, sequence) + Extended(XtPauseBreak, Set1Break, sequence[2..]);
            }

            ReadOnlySpan<byte> pause = [Set1Pause, XtCtrl, XtNumLock, Set1Pause, XtCtrl | Set1Break, XtNumLock | Set1Break];
            pause.CopyTo(sequence);
            return pause.Length;
        }

        if (extended)
        {
            return Extended(code, breakBit, sequence);
        }

        sequence[0] = (byte)(code | breakBit);
        return 1;
    }

    private static int Extended(byte code, byte breakBit, Span<byte> sequence)
    {
        sequence[0] = Set1Extended;
        sequence[1] = (byte)(code | breakBit);
        return 2;
    }

    /// <summary>Set-1 bytes → the keyboard's scancode set → the controller's translation, if on.</summary>
    private int EncodeForGuest(ReadOnlySpan<byte> set1, Span<byte> sent)
    {
        Span<byte> keyboardBytes = stackalloc byte[MaxKeySequence * 2];
        int length = 0;
        if (_scancodeSet == 1)
        {
            set1.CopyTo(keyboardBytes);
            length = set1.Length;
        }
        else
        {
            foreach (byte b in set1)
            {
                if (b is Set1Extended or Set1Pause)
                {
                    keyboardBytes[length++] = b;
                    continue;
                }

                if ((b & Set1Break) != 0)
                {
                    keyboardBytes[length++] = Set2Break;
                }

                keyboardBytes[length++] = Set1ToSet2[b & 0x7F];
            }
        }

        return TranslateFromKeyboard(keyboardBytes[..length], sent);
    }

    /// <summary>
    /// What the controller passes on from the keyboard: with translation on, each byte through the 8042's set-2 →
    /// set-1 table, and F0 swallowed to set bit 7 of the byte after it; else the bytes unchanged.
    /// </summary>
    private int TranslateFromKeyboard(ReadOnlySpan<byte> fromKeyboard, Span<byte> toGuest)
    {
        if (!TranslationOn)
        {
            fromKeyboard.CopyTo(toGuest);
            return fromKeyboard.Length;
        }

        int length = 0;
        bool breakPending = false;
        foreach (byte b in fromKeyboard)
        {
            if (b == Set2Break)
            {
                breakPending = true;
                continue;
            }

            toGuest[length++] = (byte)(Set2ToSet1[b] | (breakPending ? Set1Break : 0));
            breakPending = false;
        }

        return length;
    }

    private void WriteKeyboard(byte value)
    {
        byte awaiting = _keyboardAwaiting;
        _keyboardAwaiting = 0;
        switch (awaiting)
        {
            case KbdSetLeds:
                _leds = (byte)(value & 0x07);
                ReplyFromKeyboard(ReplyAck);
                return;
            case KbdTypematic:
                ReplyFromKeyboard(ReplyAck);
                return;
            case KbdScancodeSet when value == 0:
                ReplyFromKeyboard(ReplyAck);
                ReplyFromKeyboard(_scancodeSet);
                return;
            case KbdScancodeSet when value <= 3:
                _scancodeSet = value;
                ReplyFromKeyboard(ReplyAck);
                return;
            case KbdScancodeSet:
                ReplyFromKeyboard(ReplyResend);
                return;
        }

        switch (value)
        {
            case KbdSetLeds:
            case KbdTypematic:
            case KbdScancodeSet:
                _keyboardAwaiting = value;
                ReplyFromKeyboard(ReplyAck);
                break;
            case KbdEcho:
                ReplyFromKeyboard(ReplyEcho);
                break;
            case KbdIdentify:
                ReplyFromKeyboard(ReplyAck);
                ReplyFromKeyboard(KbdIdFirst);
                ReplyFromKeyboard(KbdIdSecond);
                break;
            case KbdEnable:
                _keyboardKeys.Clear();
                _scanning = true;
                ReplyFromKeyboard(ReplyAck);
                break;
            case KbdDisable:
            case KbdDefaults:
                // Both restore the defaults and clear the buffer; 0xF5 also stops scanning (QEMU's ps2 alike).
                KeyboardDefaults();
                _keyboardKeys.Clear();
                _scanning = value == KbdDefaults;
                ReplyFromKeyboard(ReplyAck);
                break;
            case >= KbdSet3AllFirst and <= KbdSet3AllLast:
                ReplyFromKeyboard(ReplyAck);
                break;
            case KbdResend:
                QueueKeyboardReply(_keyboardLastSent);
                break;
            case KbdReset:
                _keyboardReplies.Clear();
                _keyboardKeys.Clear();
                KeyboardDefaults();
                _scanning = true;
                ReplyFromKeyboard(ReplyAck);
                ReplyFromKeyboard(ReplySelfTestPassed);
                break;
            default:
                ReplyFromKeyboard(ReplyResend);
                break;
        }
    }

    /// <summary>A reply byte as the keyboard sends it, so through the controller's translation like any other.</summary>
    private void ReplyFromKeyboard(byte value) => QueueKeyboardReply(TranslationOn ? Set2ToSet1[value] : value);

    private void QueueKeyboardReply(byte value)
    {
        if (_keyboardReplies.Count >= DeviceQueueSize)
        {
            DroppedBytes++;
            return;
        }

        _keyboardReplies.Enqueue(value);
    }

    private bool TryTakeKeyboardByte(out byte value)
    {
        if (!_keyboardReplies.TryDequeue(out value) && !_keyboardKeys.TryDequeue(out value))
        {
            return false;
        }

        _keyboardLastSent = value;
        return true;
    }

    private void KeyboardDefaults()
    {
        _scancodeSet = 2;
        _leds = 0;
        _keyboardAwaiting = 0;
    }

    private void ResetKeyboard()
    {
        _keyboardReplies.Clear();
        _keyboardKeys.Clear();
        KeyboardDefaults();
        _scanning = true;
        _keyboardLastSent = 0;
        // _modifiers stays: it is what the host holds down, which a guest reset does not release.
    }
}
