using System.Diagnostics;
using Platform.Devices.Abstractions;

namespace Platform.Devices.Pci;

// The ACPI fixed hardware: the PM I/O block, GPE0 and the APM ports. Registers are little-endian and reached at any
// width: a read assembles bytes from one snapshot, a write changes the bytes it covers (status bits clear where it
// writes 1s), as the chip's byte lanes do. One lock keeps a register's bytes and the SCI in step across vCPUs and the
// control thread that presses the power button.
public sealed partial class Piix4PowerManagement
{
    public const int PmBlockLength = 64;
    public const int Pm1StatusOffset = 0, Pm1EnableOffset = 2, Pm1ControlOffset = 4, PmTimerOffset = 8;
    public const ushort Gpe0Port = 0xAFE0;
    public const byte Gpe0Length = 4;
    public const ushort ApmControlPort = 0xB2;
    public const int ApmPortCount = 2;
    public const byte AcpiEnableCommand = 0xF1, AcpiDisableCommand = 0xF0;

    /// <summary>The PM timer's rate: the 14.31818 MHz PC crystal divided by 4.</summary>
    public const long PmTimerHz = 3_579_545;

    // PM1 status and enable share bit positions; control has its own.
    public const ushort TimerStatus = 1 << 0, GlobalStatus = 1 << 5, PowerButtonStatus = 1 << 8, RtcStatus = 1 << 10, WakeStatus = 1 << 15;
    public const ushort SciEnable = 1 << 0, SleepEnable = 1 << 13;
    private const int SleepTypeShift = 10;
    private const ushort SleepTypeMask = 0b111 << SleepTypeShift;
    private const ushort SoftOffSleepType = 0; // \_S5 in our DSDT, as in QEMU's
    private const ushort SciEvents = TimerStatus | GlobalStatus | PowerButtonStatus | RtcStatus;
    private const int TimerBits = 24;

    private readonly Lock _pmLock = new();
    private ushort _pm1Status;
    private ushort _pm1Enable;
    private ushort _pm1Control;
    private long _timerOverflowsCleared;
    private ushort _gpe0Status;
    private ushort _gpe0Enable;
    private byte _apmControl;
    private byte _apmStatus;
    private bool _sciLevel;
    private long _powerButtonPresses;
    private long _unsupportedSleeps;

    /// <summary>Raised (on the vCPU thread) when the guest enters S5: the VM powers off.</summary>
    public Action? PowerOffRequested { get; set; }

    /// <summary>Whether the guest has ACPI on (SCI_EN): only then does it handle the power button's SCI.</summary>
    public bool AcpiEnabled
    {
        get
        {
            lock (_pmLock)
            {
                return (_pm1Control & SciEnable) != 0;
            }
        }
    }

    public long PowerButtonPresses => Interlocked.Read(ref _powerButtonPresses);

    /// <summary>Sleep states the guest asked for that this machine does not have (all but S5).</summary>
    public long UnsupportedSleeps => Interlocked.Read(ref _unsupportedSleeps);

    /// <summary>The PM timer now: ticks since the machine was made, modulo 2^24.</summary>
    public uint PmTimer => (uint)(TimerTicks() & ((1 << TimerBits) - 1));

    /// <summary>
    /// Presses the power button, as QEMU's <c>system_powerdown</c> does: PWRBTN_STS is set and, with PWRBTN_EN, raises the
    /// SCI. Returns false (and presses nothing) while the guest has ACPI off, so the caller can ask another way.
    /// </summary>
    public bool PressPowerButton()
    {
        lock (_pmLock)
        {
            if ((_pm1Control & SciEnable) == 0)
            {
                return false;
            }

            _pm1Status |= PowerButtonStatus;
            Interlocked.Increment(ref _powerButtonPresses);
            UpdateSci();
            return true;
        }
    }

    private long TimerTicks()
    {
        long elapsed = Stopwatch.GetTimestamp() - _timerStart;
        return (long)((Int128)elapsed * PmTimerHz / Stopwatch.Frequency);
    }

    /// <summary>PM1 status with TMR_STS as it stands: set once bit 23 has flipped since the guest last cleared it.</summary>
    private ushort CurrentPm1Status()
    {
        long overflows = TimerTicks() >> (TimerBits - 1);
        return (ushort)(_pm1Status | (overflows != _timerOverflowsCleared ? TimerStatus : 0));
    }

    /// <summary>The SCI as QEMU computes it: an enabled PM1 event or GPE0 event pending. Call with the lock held.</summary>
    private void UpdateSci()
    {
        bool level = (CurrentPm1Status() & _pm1Enable & SciEvents) != 0 || (_gpe0Status & _gpe0Enable) != 0;
        if (level != _sciLevel)
        {
            _sciLevel = level;
            _sci.SetLevel(level);
        }
    }

    private byte ReadPmByte(int offset, ushort status, uint timer) => offset switch
    {
        Pm1StatusOffset or Pm1StatusOffset + 1 => (byte)(status >> (8 * (offset - Pm1StatusOffset))),
        Pm1EnableOffset or Pm1EnableOffset + 1 => (byte)(_pm1Enable >> (8 * (offset - Pm1EnableOffset))),
        Pm1ControlOffset or Pm1ControlOffset + 1 => (byte)(_pm1Control >> (8 * (offset - Pm1ControlOffset))),
        >= PmTimerOffset and < PmTimerOffset + 4 => (byte)(timer >> (8 * (offset - PmTimerOffset))),
        _ => 0,
    };

    private void ReadPm(ulong offset, Span<byte> data)
    {
        lock (_pmLock)
        {
            ushort status = CurrentPm1Status();
            uint timer = PmTimer;
            for (int i = 0; i < data.Length; i++)
            {
                int at = (int)offset + i;
                data[i] = ReadPmByte(at, status, timer);
                if (at is not (< Pm1ControlOffset + 2 or (>= PmTimerOffset and < PmTimerOffset + 4)))
                {
                    CountBadAccess(); // the PIIX4's other PM registers (throttling, SMI, GPIO) are not there
                }
            }
        }
    }

    private void WritePm(ulong offset, ReadOnlySpan<byte> data)
    {
        bool powerOff = false;
        lock (_pmLock)
        {
            ushort clear = 0, enable = _pm1Enable, control = _pm1Control;
            bool controlWritten = false;
            for (int i = 0; i < data.Length; i++)
            {
                int at = (int)offset + i;
                switch (at)
                {
                    case Pm1StatusOffset or Pm1StatusOffset + 1:
                        clear |= (ushort)(data[i] << (8 * (at - Pm1StatusOffset)));
                        break;
                    case Pm1EnableOffset or Pm1EnableOffset + 1:
                        enable = SetByte(enable, at - Pm1EnableOffset, data[i]);
                        break;
                    case Pm1ControlOffset or Pm1ControlOffset + 1:
                        control = SetByte(control, at - Pm1ControlOffset, data[i]);
                        controlWritten = true;
                        break;
                    default:
                        CountBadAccess(); // the timer is read-only; the rest is not there
                        break;
                }
            }

            _pm1Status &= (ushort)~clear;
            if ((clear & TimerStatus) != 0)
            {
                _timerOverflowsCleared = TimerTicks() >> (TimerBits - 1);
            }

            _pm1Enable = enable;
            if (controlWritten)
            {
                // SLP_EN is write-only: it acts, and reads back 0.
                _pm1Control = (ushort)(control & ~SleepEnable);
                if ((control & SleepEnable) != 0)
                {
                    if ((control & SleepTypeMask) >> SleepTypeShift == SoftOffSleepType)
                    {
                        powerOff = true;
                    }
                    else
                    {
                        Interlocked.Increment(ref _unsupportedSleeps);
                    }
                }
            }

            UpdateSci();
        }

        if (powerOff)
        {
            PowerOffRequested?.Invoke();
        }
    }

    private void ReadGpe0(ulong offset, Span<byte> data)
    {
        lock (_pmLock)
        {
            for (int i = 0; i < data.Length; i++)
            {
                int at = (int)offset + i;
                data[i] = at < 2 ? (byte)(_gpe0Status >> (8 * at)) : (byte)(_gpe0Enable >> (8 * (at - 2)));
            }
        }
    }

    private void WriteGpe0(ulong offset, ReadOnlySpan<byte> data)
    {
        lock (_pmLock)
        {
            for (int i = 0; i < data.Length; i++)
            {
                int at = (int)offset + i;
                if (at < 2)
                {
                    _gpe0Status &= (ushort)~(data[i] << (8 * at));
                }
                else
                {
                    _gpe0Enable = SetByte(_gpe0Enable, at - 2, data[i]);
                }
            }

            UpdateSci();
        }
    }

    private void ReadApm(ulong offset, Span<byte> data)
    {
        lock (_pmLock)
        {
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = (int)offset + i == 0 ? _apmControl : _apmStatus;
            }
        }
    }

    /// <summary>APM control (0xB2) is the FADT's SMI_CMD: what the SMI handler would do for ACPI_ENABLE/DISABLE, done here.</summary>
    private void WriteApm(ulong offset, ReadOnlySpan<byte> data)
    {
        lock (_pmLock)
        {
            for (int i = 0; i < data.Length; i++)
            {
                if ((int)offset + i != 0)
                {
                    _apmStatus = data[i];
                    continue;
                }

                _apmControl = data[i];
                if (data[i] == AcpiEnableCommand)
                {
                    _pm1Control |= SciEnable;
                }
                else if (data[i] == AcpiDisableCommand)
                {
                    _pm1Control &= unchecked((ushort)~SciEnable);
                }
            }
        }
    }

    private static ushort SetByte(ushort value, int index, byte b) =>
        (ushort)((value & ~(0xFF << (8 * index))) | (b << (8 * index)));

    /// <summary>One register range as a bus device; accesses past its end are the bus's to refuse.</summary>
    private abstract class Registers(Piix4PowerManagement owner, int length) : IBusDevice
    {
        protected Piix4PowerManagement Owner => owner;

        public void Read(ulong offset, Span<byte> data)
        {
            if (offset + (ulong)data.Length > (ulong)length)
            {
                data.Fill(0xFF);
                owner.CountBadAccess();
                return;
            }

            OnRead(offset, data);
        }

        public void Write(ulong offset, ReadOnlySpan<byte> data)
        {
            if (offset + (ulong)data.Length > (ulong)length)
            {
                owner.CountBadAccess();
                return;
            }

            OnWrite(offset, data);
        }

        protected abstract void OnRead(ulong offset, Span<byte> data);

        protected abstract void OnWrite(ulong offset, ReadOnlySpan<byte> data);
    }

    private sealed class PmIoBlock(Piix4PowerManagement owner) : Registers(owner, PmBlockLength)
    {
        protected override void OnRead(ulong offset, Span<byte> data) => Owner.ReadPm(offset, data);

        protected override void OnWrite(ulong offset, ReadOnlySpan<byte> data) => Owner.WritePm(offset, data);
    }

    private sealed class Gpe0Registers(Piix4PowerManagement owner) : Registers(owner, Gpe0Length)
    {
        protected override void OnRead(ulong offset, Span<byte> data) => Owner.ReadGpe0(offset, data);

        protected override void OnWrite(ulong offset, ReadOnlySpan<byte> data) => Owner.WriteGpe0(offset, data);
    }

    private sealed class ApmRegisters(Piix4PowerManagement owner) : Registers(owner, ApmPortCount)
    {
        protected override void OnRead(ulong offset, Span<byte> data) => Owner.ReadApm(offset, data);

        protected override void OnWrite(ulong offset, ReadOnlySpan<byte> data) => Owner.WriteApm(offset, data);
    }
}
