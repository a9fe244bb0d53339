using Platform.Devices.Abstractions;

namespace Platform.Devices.Legacy;

/// <summary>
/// An Intel 8042 keyboard controller with a PS/2 keyboard and a minimal PS/2 mouse behind it, as on a PC
/// (port 0x60 data, 0x64 status/command; IRQ 1 for the keyboard, IRQ 12 for the mouse).
/// </summary>
/// <remarks>
/// <para>
/// Registered at base 0x60 with length 5. Offset 0 is the data port 0x60 and offset 4 the status (read) /
/// command (write) port 0x64. Offsets 1–3 are not ours (0x61 belongs to the in-kernel PIT's speaker gate): an
/// access there, or any access wider than a byte, is counted in <see cref="BadAccesses"/> and reads as zeros,
/// as <see cref="IBusDevice"/> asks.
/// </para>
/// <para>
/// The controller has one output buffer. Bytes wait for it in three queues, taken in this order: replies the
/// controller itself produced (command results and the 0xD2/0xD3 echoes), then the keyboard's (command replies
/// ahead of key codes), then the mouse's. A queue's bytes move only while its interface is enabled in the command
/// byte, so key presses made while the guest has the keyboard disabled wait, as a real keyboard holds them. A
/// byte entering the buffer asserts IRQ 1 (keyboard) or IRQ 12 (mouse) when the command byte enables it; reading
/// port 0x60 lowers the line before the next byte loads, so every byte is a fresh edge for the PIC.
/// </para>
/// <para>
/// Key input comes from the host as set-1 (XT) scancodes through <see cref="KeyEvent"/>; the keyboard sends them in
/// the scancode set the guest chose, and the controller translates set 2 to set 1 while the command byte's
/// translation bit is on, as real hardware does — so with translation (the default, and what Linux uses) the
/// guest sees set 1, and without it, set 2. A machine reset request (command 0xFE, any 0xF0–0xFF pulse of line 0,
/// or an output-port write with bit 0 clear) calls the <c>resetRequested</c> callback after the device lock is
/// released, so the callback may stop vCPUs or reset this device without deadlocking.
/// </para>
/// <para>
/// One lock serializes guest accesses on vCPU threads with host key input; no method allocates.
/// </para>
/// </remarks>
public sealed partial class I8042Controller : IBusDevice
{
    /// <summary>Ports 0x60–0x64, of which 0x60 and 0x64 are ours.</summary>
    public const ulong PortCount = 5;

    /// <summary>Bytes each PS/2 device holds for the guest (QEMU's ps2 queue has 16 too).</summary>
    public const int DeviceQueueSize = 16;

    /// <summary>
    /// The command byte firmware leaves behind: keyboard and mouse interrupts on, the system flag set (POST
    /// passed), both interfaces enabled, and set-2 → set-1 translation on.
    /// </summary>
    public const byte DefaultCommandByte = CtrKeyboardInterrupt | CtrAuxInterrupt | CtrSystemFlag | CtrTranslate;

    private const int ControllerRamSize = 32;

    private static readonly KeyValuePair<string, object?> DeviceTag = new("device", "i8042");

    private readonly IInterruptLine _keyboardIrq;
    private readonly IInterruptLine _mouseIrq;
    private readonly Action _resetRequested;
    private readonly Lock _lock = new();

    /// <summary>The controller's internal RAM; byte 0 is the command byte (the "controller configuration byte").</summary>
    private readonly byte[] _ram = new byte[ControllerRamSize];
    private readonly Queue<byte> _controllerReplies = new(DeviceQueueSize);
    private readonly Queue<bool> _controllerRepliesFromAux = new(DeviceQueueSize);

    private byte _outputPort;
    private byte _pendingCommand;   // a controller command waiting for its data byte on port 0x60; 0 if none
    private bool _lastWriteWasCommand;
    private bool _systemFlag;

    private bool _outputFull;
    private bool _outputFromAux;
    private byte _outputBuffer;     // also what an empty buffer reads back, as on real controllers

    private bool _keyboardIrqAsserted;
    private bool _mouseIrqAsserted;

    public I8042Controller(IInterruptLine keyboardIrq, IInterruptLine mouseIrq, Action resetRequested)
    {
        ArgumentNullException.ThrowIfNull(keyboardIrq);
        ArgumentNullException.ThrowIfNull(mouseIrq);
        ArgumentNullException.ThrowIfNull(resetRequested);
        _keyboardIrq = keyboardIrq;
        _mouseIrq = mouseIrq;
        _resetRequested = resetRequested;
        ResetState();
    }

    /// <summary>Accesses to offsets 1–3 or past the range, accesses wider than a byte, and unknown controller commands.</summary>
    public long BadAccesses { get; private set; }

    /// <summary>
    /// Bytes thrown away because a device's queue was full (a whole key sequence is dropped, never half of one); keys
    /// offered through <see cref="TryKeyEvent"/> are held by the host instead and never counted here.
    /// </summary>
    public long DroppedBytes { get; private set; }

    /// <summary>Times the guest asked the controller to reset the machine.</summary>
    public long ResetRequests { get; private set; }

    /// <summary>The command byte as the guest last wrote it (read with controller command 0x20).</summary>
    public byte CommandByte
    {
        get
        {
            lock (_lock)
            {
                return _ram[0];
            }
        }
    }

    private bool TranslationOn => (_ram[0] & CtrTranslate) != 0;

    public void Read(ulong offset, Span<byte> data)
    {
        bool room;
        lock (_lock)
        {
            if (data.Length != 1 || (offset != DataOffset && offset != StatusCommandOffset))
            {
                CountBadAccess();
                data.Clear();
                return;
            }

            data[0] = offset == DataOffset ? ReadData() : ReadStatus();
            room = TakeKeyboardRoomSignal();
        }

        if (room)
        {
            KeyboardRoomAvailable?.Invoke();
        }
    }

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        bool reset, room;
        lock (_lock)
        {
            if (data.Length != 1 || (offset != DataOffset && offset != StatusCommandOffset))
            {
                CountBadAccess();
                return;
            }

            reset = offset == DataOffset ? WriteData(data[0]) : WriteCommand(data[0]);
            Refill();
            UpdateInterrupts();
            room = TakeKeyboardRoomSignal(); // a keyboard reset or enable empties its buffer
        }

        if (room)
        {
            KeyboardRoomAvailable?.Invoke();
        }

        if (reset)
        {
            _resetRequested();
        }
    }

    /// <summary>Back to the state after a machine reset: firmware's command byte, empty queues, keyboard defaults.</summary>
    public void Reset()
    {
        bool room;
        lock (_lock)
        {
            ResetState();
            UpdateInterrupts();
            room = TakeKeyboardRoomSignal();
        }

        if (room)
        {
            KeyboardRoomAvailable?.Invoke();
        }
    }

    private void ResetState()
    {
        Array.Clear(_ram);
        _ram[0] = DefaultCommandByte;
        _outputPort = OutPortDefault;
        _pendingCommand = 0;
        _lastWriteWasCommand = false;
        _systemFlag = true;
        _outputFull = false;
        _outputFromAux = false;
        _outputBuffer = 0;
        _controllerReplies.Clear();
        _controllerRepliesFromAux.Clear();
        ResetKeyboard();
        ResetMouse();
    }

    private byte ReadStatus()
    {
        // IBF (bit 1) is never set, as each byte is taken the moment it is written, and neither are the timeout
        // and parity errors (bits 6 and 7): nothing goes wrong on a virtual wire.
        byte status = StatusNotLocked;
        if (_outputFull)
        {
            status |= StatusOutputFull;
            if (_outputFromAux)
            {
                status |= StatusAuxOutputFull;
            }
        }

        if (_systemFlag)
        {
            status |= StatusSystemFlag;
        }

        if (_lastWriteWasCommand)
        {
            status |= StatusLastWasCommand;
        }

        return status;
    }

    private byte ReadData()
    {
        if (!_outputFull)
        {
            return _outputBuffer;
        }

        byte value = _outputBuffer;
        _outputFull = false;
        // Drop the line before loading the next byte: the PIC sees IRQ 1 and 12 as edges, so each byte needs its own.
        LowerInterrupts();
        Refill();
        UpdateInterrupts();
        return value;
    }

    /// <summary>A data-port write: the parameter of a pending controller command, else a byte for the keyboard.</summary>
    private bool WriteData(byte value)
    {
        _lastWriteWasCommand = false;
        byte command = _pendingCommand;
        _pendingCommand = 0;
        switch (command)
        {
            case >= CmdWriteRamFirst and <= CmdWriteRamLast:
                _ram[command - CmdWriteRamFirst] = value;
                if (command == CmdWriteRamFirst)
                {
                    // The system flag follows command-byte bit 2 (IBM PS/2 technical reference).
                    _systemFlag = (value & CtrSystemFlag) != 0;
                }

                return false;
            case CmdWriteOutputPort:
                _outputPort = value;
                return (value & OutPortResetLine) == 0 && RequestReset();
            case CmdWriteKeyboardBuffer:
                QueueControllerReply(value, fromAux: false);
                return false;
            case CmdWriteAuxBuffer:
                QueueControllerReply(value, fromAux: true);
                return false;
            case CmdWriteAux:
                // Talking to a device re-enables its interface, as the controller drives the clock line to send.
                _ram[0] &= unchecked((byte)~CtrAuxDisabled);
                WriteMouse(value);
                return false;
            default:
                _ram[0] &= unchecked((byte)~CtrKeyboardDisabled);
                WriteKeyboard(value);
                return false;
        }
    }

    private bool WriteCommand(byte command)
    {
        _lastWriteWasCommand = true;
        _pendingCommand = 0;
        switch (command)
        {
            case >= CmdReadRamFirst and <= CmdReadRamLast:
                QueueControllerReply(_ram[command - CmdReadRamFirst], fromAux: false);
                break;
            case >= CmdWriteRamFirst and <= CmdWriteRamLast:
            case CmdWriteOutputPort:
            case CmdWriteKeyboardBuffer:
            case CmdWriteAuxBuffer:
            case CmdWriteAux:
                _pendingCommand = command;
                break;
            case CmdDisableAux:
                _ram[0] |= CtrAuxDisabled;
                break;
            case CmdEnableAux:
                _ram[0] &= unchecked((byte)~CtrAuxDisabled);
                break;
            case CmdTestAux:
            case CmdTestKeyboard:
                QueueControllerReply(InterfaceTestPassed, fromAux: false);
                break;
            case CmdSelfTest:
                _systemFlag = true;
                QueueControllerReply(SelfTestPassed, fromAux: false);
                break;
            case CmdDisableKeyboard:
                _ram[0] |= CtrKeyboardDisabled;
                break;
            case CmdEnableKeyboard:
                _ram[0] &= unchecked((byte)~CtrKeyboardDisabled);
                break;
            case CmdReadInputPort:
                QueueControllerReply(InputPortValue, fromAux: false);
                break;
            case CmdReadOutputPort:
                QueueControllerReply(ReadOutputPort(), fromAux: false);
                break;
            case CmdDisableA20:
                // A20 is recorded for 0xD0 but not emulated: our guests start in long mode with A20 on.
                _outputPort &= unchecked((byte)~OutPortA20);
                break;
            case CmdEnableA20:
                _outputPort |= OutPortA20;
                break;
            case CmdReadTestInputs:
                QueueControllerReply(0x00, fromAux: false);
                break;
            case >= CmdPulseFirst:
                // Bits 0–3 say which output lines to pulse low; only line 0 (CPU reset) is wired to anything.
                return (command & OutPortResetLine) == 0 && RequestReset();
            default:
                CountBadAccess();
                break;
        }

        return false;
    }

    /// <summary>The output port with its buffer-full lines (bits 4 and 5, wired to IRQ 1 and 12) as they are now.</summary>
    private byte ReadOutputPort()
    {
        byte value = (byte)(_outputPort & ~(OutPortKeyboardFull | OutPortAuxFull));
        if (_outputFull)
        {
            value |= _outputFromAux ? OutPortAuxFull : OutPortKeyboardFull;
        }

        return value;
    }

    private bool RequestReset()
    {
        ResetRequests++;
        return true;
    }

    private void QueueControllerReply(byte value, bool fromAux)
    {
        if (_controllerReplies.Count >= DeviceQueueSize)
        {
            DroppedBytes++;
            return;
        }

        _controllerReplies.Enqueue(value);
        _controllerRepliesFromAux.Enqueue(fromAux);
    }

    /// <summary>Moves the next waiting byte into an empty output buffer.</summary>
    private void Refill()
    {
        if (_outputFull)
        {
            return;
        }

        if (_controllerReplies.Count > 0)
        {
            Load(_controllerReplies.Dequeue(), _controllerRepliesFromAux.Dequeue());
        }
        else if ((_ram[0] & CtrKeyboardDisabled) == 0 && TryTakeKeyboardByte(out byte key))
        {
            Load(key, fromAux: false);
        }
        else if ((_ram[0] & CtrAuxDisabled) == 0 && TryTakeMouseByte(out byte aux))
        {
            Load(aux, fromAux: true);
        }
    }

    private void Load(byte value, bool fromAux)
    {
        _outputBuffer = value;
        _outputFromAux = fromAux;
        _outputFull = true;
    }

    private void UpdateInterrupts()
    {
        bool keyboard = _outputFull && !_outputFromAux && (_ram[0] & CtrKeyboardInterrupt) != 0;
        bool mouse = _outputFull && _outputFromAux && (_ram[0] & CtrAuxInterrupt) != 0;
        if (keyboard != _keyboardIrqAsserted)
        {
            _keyboardIrqAsserted = keyboard;
            _keyboardIrq.SetLevel(keyboard);
        }

        if (mouse != _mouseIrqAsserted)
        {
            _mouseIrqAsserted = mouse;
            _mouseIrq.SetLevel(mouse);
        }
    }

    private void LowerInterrupts()
    {
        if (_keyboardIrqAsserted)
        {
            _keyboardIrqAsserted = false;
            _keyboardIrq.SetLevel(false);
        }

        if (_mouseIrqAsserted)
        {
            _mouseIrqAsserted = false;
            _mouseIrq.SetLevel(false);
        }
    }

    /// <summary>Counts a bad access; the caller holds the lock.</summary>
    private void CountBadAccess()
    {
        BadAccesses++;
        DeviceCounters.BadAccesses.Add(1, DeviceTag);
    }
}
