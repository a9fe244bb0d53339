using Platform.Devices.Abstractions;

namespace Platform.Devices.Legacy;

/// <summary>
/// An 8250/16550A UART as PCs have at COM1 (0x3F8, IRQ 4): the eight registers, a 16-byte receive FIFO,
/// interrupt identification with the 16550's priorities, loopback, and a scratch register.
/// </summary>
/// <remarks>
/// Transmission is instantaneous: a byte written to THR goes straight to <c>output</c>, so THR-empty and
/// transmitter-empty always read as set, and an enabled THR-empty interrupt fires right after each write, as
/// QEMU's serial does. Input arrives from the host through <see cref="Receive"/>; bytes beyond the FIFO wait in
/// a bounded host-side queue so a paste is not lost, and the guest sees an overrun only when that queue is full.
/// Register logic knows nothing of threads or sockets: the engine serializes guest access and host input with
/// one lock held here.
/// </remarks>
public sealed partial class Uart16550 : IBusDevice
{
    public const int RegisterCount = 8;
    public const int FifoSize = 16;
    /// <summary>Host bytes held beyond the FIFO before the guest sees an overrun.</summary>
    public const int HostQueueLimit = 64 * 1024;

    private readonly IInterruptLine _irq;
    private readonly Stream _output;
    private readonly Lock _lock = new();
    private readonly Queue<byte> _receive = new();

    private byte _ier, _lcr, _mcr, _scr, _fcr;
    private byte _divisorLow = 0x0C, _divisorHigh; // 9600 baud, as firmware leaves it
    private bool _overrun;
    private int _roomWantedBelow;   // a TryReceive was refused: call back once the queue is this short
    private bool _thrEmptyPending;
    private bool _irqAsserted;
    private bool _msrDeltaPending;
    private byte _lastModemInputs;

    public Uart16550(IInterruptLine irq, Stream output)
    {
        _irq = irq;
        _output = output;
        _lastModemInputs = ModemInputs();
    }

    /// <summary>Bytes the guest wrote to THR (not in loopback).</summary>
    public long BytesTransmitted { get; private set; }

    /// <summary>Bytes the guest read from RBR.</summary>
    public long BytesReceived { get; private set; }

    /// <summary>Accesses to offsets past the eight registers or wider than a byte.</summary>
    public long BadAccesses { get; private set; }

    /// <summary>
    /// Queues host input for the guest. Returns how many bytes were taken; fewer than offered means the
    /// host-side queue is full and the caller should retry later (back-pressure, nothing is dropped silently).
    /// </summary>
    public int Receive(ReadOnlySpan<byte> bytes)
    {
        lock (_lock)
        {
            int taken = Math.Min(bytes.Length, HostQueueLimit - _receive.Count);
            for (int i = 0; i < taken; i++)
            {
                _receive.Enqueue(bytes[i]);
            }

            UpdateInterrupt();
            return taken;
        }
    }

    /// <summary>
    /// Queues one byte of host input only while fewer than <paramref name="queueLimit"/> bytes wait for the guest:
    /// false otherwise, with nothing changed, and <see cref="InputRoomAvailable"/> is called once the guest has read
    /// the queue down to half that. A host that serves several typists keeps the queue this short so that none of
    /// them waits behind another's paste.
    /// </summary>
    public bool TryReceive(byte value, int queueLimit)
    {
        lock (_lock)
        {
            if (_receive.Count >= queueLimit)
            {
                _roomWantedBelow = Math.Max(1, queueLimit / 2);
                return false;
            }

            _receive.Enqueue(value);
            UpdateInterrupt();
            return true;
        }
    }

    /// <summary>
    /// Called after the guest read the input queue down following a refused <see cref="TryReceive"/>: on the thread of
    /// the guest's access (a vCPU thread), outside the device's lock. Keep it short (queue work elsewhere).
    /// </summary>
    public Action? InputRoomAvailable { get; set; }

    public void Read(ulong offset, Span<byte> data)
    {
        if (data.Length != 1 || offset >= RegisterCount)
        {
            BadAccesses++;
            data.Clear();
            return;
        }

        bool room;
        lock (_lock)
        {
            data[0] = ReadRegister((int)offset);
            UpdateInterrupt();
            room = TakeRoomSignal();
        }

        if (room)
        {
            InputRoomAvailable?.Invoke();
        }
    }

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        if (data.Length != 1 || offset >= RegisterCount)
        {
            BadAccesses++;
            return;
        }

        bool room;
        lock (_lock)
        {
            WriteRegister((int)offset, data[0]);
            UpdateInterrupt();
            room = TakeRoomSignal(); // a FIFO clear empties the queue
        }

        if (room)
        {
            InputRoomAvailable?.Invoke();
        }
    }

    /// <summary>True once after a refused <see cref="TryReceive"/> when the queue is short again; under the lock.</summary>
    private bool TakeRoomSignal()
    {
        if (_roomWantedBelow == 0 || _receive.Count > _roomWantedBelow)
        {
            return false;
        }

        _roomWantedBelow = 0;
        return true;
    }

    /// <summary>Back to the state after a machine reset (registers cleared, queued input kept).</summary>
    public void Reset()
    {
        lock (_lock)
        {
            _ier = _lcr = _mcr = _scr = _fcr = 0;
            _divisorLow = 0x0C;
            _divisorHigh = 0;
            _overrun = _thrEmptyPending = _msrDeltaPending = false;
            _lastModemInputs = ModemInputs();
            UpdateInterrupt();
        }
    }

    private bool DivisorLatchAccess => (_lcr & LcrDivisorLatch) != 0;
    private bool Loopback => (_mcr & McrLoopback) != 0;
    private bool FifoEnabled => (_fcr & FcrEnable) != 0;

    private int TriggerLevel => (_fcr >> 6) switch
    {
        0 => 1,
        1 => 4,
        2 => 8,
        _ => 14,
    };

    private byte ReadRegister(int register)
    {
        switch (register)
        {
            case RbrThrOffset when DivisorLatchAccess:
                return _divisorLow;
            case RbrThrOffset:
                return ReadReceiveBuffer();
            case IerOffset when DivisorLatchAccess:
                return _divisorHigh;
            case IerOffset:
                return _ier;
            case IirFcrOffset:
                return ReadInterruptIdentification();
            case LcrOffset:
                return _lcr;
            case McrOffset:
                return _mcr;
            case LsrOffset:
                return ReadLineStatus();
            case MsrOffset:
                return ReadModemStatus();
            default:
                return _scr;
        }
    }

    private void WriteRegister(int register, byte value)
    {
        switch (register)
        {
            case RbrThrOffset when DivisorLatchAccess:
                _divisorLow = value;
                break;
            case RbrThrOffset:
                Transmit(value);
                break;
            case IerOffset when DivisorLatchAccess:
                _divisorHigh = value;
                break;
            case IerOffset:
                bool thrInterruptNewlyEnabled = (value & IerThrEmpty) != 0 && (_ier & IerThrEmpty) == 0;
                _ier = (byte)(value & 0x0F);
                // The 16550 raises THR-empty as soon as it is enabled while THR is empty (always, for us).
                if (thrInterruptNewlyEnabled)
                {
                    _thrEmptyPending = true;
                }

                break;
            case IirFcrOffset:
                WriteFifoControl(value);
                break;
            case LcrOffset:
                _lcr = value;
                break;
            case McrOffset:
                _mcr = (byte)(value & 0x1F);
                NoteModemInputChange();
                break;
            case LsrOffset:
            case MsrOffset:
                // Read-only on a 16550; writes are ignored as on real hardware (factory test mode aside).
                break;
            default:
                _scr = value;
                break;
        }
    }

    private void Transmit(byte value)
    {
        if (Loopback)
        {
            if (_receive.Count < HostQueueLimit)
            {
                _receive.Enqueue(value);
            }
            else
            {
                _overrun = true;
            }
        }
        else
        {
            _output.WriteByte(value);
            BytesTransmitted++;
        }

        _thrEmptyPending = (_ier & IerThrEmpty) != 0;
    }

    private byte ReadReceiveBuffer()
    {
        if (_receive.Count == 0)
        {
            return 0;
        }

        BytesReceived++;
        return _receive.Dequeue();
    }

    private void WriteFifoControl(byte value)
    {
        if ((value & FcrEnable) == 0)
        {
            _fcr = 0;
            return;
        }

        if ((value & FcrClearReceive) != 0)
        {
            _receive.Clear();
        }

        // Clearing the transmit FIFO is a no-op: we never hold transmitted bytes.
        _fcr = (byte)(value & (FcrEnable | FcrTriggerMask));
    }

    private byte ReadInterruptIdentification()
    {
        byte fifoBits = FifoEnabled ? IirFifoEnabled : (byte)0;
        byte id = PendingInterrupt();
        // Reading IIR while it reports THR-empty acknowledges that interrupt (16550 data sheet, table 4).
        if (id == IirThrEmpty)
        {
            _thrEmptyPending = false;
        }

        return (byte)(fifoBits | id);
    }

    private byte ReadLineStatus()
    {
        byte lsr = LsrThrEmpty | LsrTransmitterEmpty;
        if (_receive.Count > 0)
        {
            lsr |= LsrDataReady;
        }

        if (_overrun)
        {
            lsr |= LsrOverrun;
            _overrun = false; // cleared by reading LSR
        }

        return lsr;
    }

    private byte ReadModemStatus()
    {
        byte inputs = ModemInputs();
        byte deltas = (byte)((inputs ^ _lastModemInputs) >> 4 & 0x0F);
        // Trailing-edge ring indicator is reported only on the 1 → 0 change of RI.
        if ((deltas & MsrDeltaRing) != 0 && (inputs & MsrRing) != 0)
        {
            deltas &= unchecked((byte)~MsrDeltaRing);
        }

        _lastModemInputs = inputs;
        _msrDeltaPending = false;
        return (byte)(inputs | deltas);
    }

    /// <summary>The modem input lines: wired to MCR outputs in loopback, else carrier, DSR and CTS up (as QEMU).</summary>
    private byte ModemInputs()
    {
        if (!Loopback)
        {
            return MsrCarrierDetect | MsrDataSetReady | MsrClearToSend;
        }

        byte inputs = 0;
        if ((_mcr & McrDataTerminalReady) != 0) inputs |= MsrDataSetReady;
        if ((_mcr & McrRequestToSend) != 0) inputs |= MsrClearToSend;
        if ((_mcr & McrOut1) != 0) inputs |= MsrRing;
        if ((_mcr & McrOut2) != 0) inputs |= MsrCarrierDetect;
        return inputs;
    }

    private void NoteModemInputChange()
    {
        if (ModemInputs() != _lastModemInputs)
        {
            _msrDeltaPending = true;
        }
    }

    /// <summary>The highest-priority pending and enabled interrupt, as IIR bits 0–3.</summary>
    private byte PendingInterrupt()
    {
        if ((_ier & IerLineStatus) != 0 && _overrun)
        {
            return IirLineStatus;
        }

        if ((_ier & IerReceiveData) != 0 && _receive.Count > 0)
        {
            return FifoEnabled && _receive.Count < TriggerLevel ? IirCharacterTimeout : IirReceiveData;
        }

        if ((_ier & IerThrEmpty) != 0 && _thrEmptyPending)
        {
            return IirThrEmpty;
        }

        if ((_ier & IerModemStatus) != 0 && _msrDeltaPending)
        {
            return IirModemStatus;
        }

        return IirNoInterrupt;
    }

    private void UpdateInterrupt()
    {
        // Real PC serial cards gate the IRQ pin with OUT2; QEMU does not, and guests written against QEMU
        // (ours included) rely on that, so neither do we.
        bool asserted = PendingInterrupt() != IirNoInterrupt;
        if (asserted != _irqAsserted)
        {
            _irqAsserted = asserted;
            _irq.SetLevel(asserted);
        }
    }
}
