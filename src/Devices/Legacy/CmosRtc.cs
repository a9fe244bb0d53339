using Platform.Devices.Abstractions;

namespace Platform.Devices.Legacy;

/// <summary>
/// The Motorola MC146818 real-time clock and its CMOS RAM, as PCs have at ports 0x70 (index) and 0x71 (data),
/// raising IRQ 8.
/// </summary>
/// <remarks>
/// <para>
/// Registered at base 0x70 with length 2. Writing the index port selects one of 128 bytes; its bit 7 is the NMI
/// mask, kept in <see cref="NmiDisabled"/> and never part of the index. Reading the index port gives 0xFF, as
/// QEMU's does (real chipsets differ). Accesses past the two ports or wider than a byte are counted in
/// <see cref="BadAccesses"/> and read as zeros.
/// </para>
/// <para>
/// The clock is the host's UTC (QEMU's default <c>-rtc base=utc</c>) plus an offset the guest sets by writing
/// the time. Time registers are computed at each read in the format register B asks for (BCD or binary, 24- or
/// 12-hour), so a format change shows at once. Setting B's SET bit freezes a copy of the time in the registers for
/// the guest to overwrite; clearing it turns what the guest wrote into the new offset, as QEMU does. A time
/// register written while the clock runs takes effect at once the same way. The weekday register is stored but the
/// weekday is always derived from the date. UIP (register A bit 7) reads as set for the last 244 µs of each second.
/// The divider bits of register A are stored; the clock runs whatever they hold, but periodic interrupts and UIP
/// need the divider running (DV ≤ 010, as QEMU).
/// </para>
/// <para>
/// Register C's flags are worked out from the clock when it is read: UF if a second ended since the last read, PF
/// if a periodic tick passed, AF if the current second matches the alarm. While an interrupt is enabled in B
/// (PIE, UIE or AIE) a <see cref="TimeProvider"/> timer fires at the next tick or second to set the flag and
/// assert IRQ 8 without a read; with none enabled no timer runs. Periodic ticks a host timer cannot follow
/// (faster than 1 kHz) are coalesced: the flag is set once per timer run, as QEMU's lost-tick "discard" does.
/// Reading C clears the flags and releases IRQ 8.
/// </para>
/// <para>
/// Bytes 0x0E–0x7F are plain CMOS storage (the century, 0x32, aside), with QEMU's memory-size fields filled in
/// from the constructor, and the equipment byte, QEMU's default boot order (hard disk, floppy, CD-ROM) and the vCPU count
/// (0x5F) as QEMU's pc machine sets them for SeaBIOS. One lock serializes vCPU accesses and timer callbacks.
/// </para>
/// </remarks>
public sealed class CmosRtc : IBusDevice, IDisposable
{
    public const ulong PortCount = 2;
    public const int CmosSize = 128;

    private const ulong IndexOffset = 0;
    private const ulong DataOffset = 1;
    private const byte IndexNmiDisable = 0b1000_0000;
    private const byte IndexMask = 0b0111_1111;

    private const int RegSeconds = 0x00;
    private const int RegSecondsAlarm = 0x01;
    private const int RegMinutes = 0x02;
    private const int RegMinutesAlarm = 0x03;
    private const int RegHours = 0x04;
    private const int RegHoursAlarm = 0x05;
    private const int RegWeekday = 0x06;
    private const int RegDayOfMonth = 0x07;
    private const int RegMonth = 0x08;
    private const int RegYear = 0x09;
    private const int RegA = 0x0A;
    private const int RegB = 0x0B;
    private const int RegC = 0x0C;
    private const int RegD = 0x0D;
    /// <summary>Where the century is kept, as ACPI's FADT and every PC BIOS say.</summary>
    public const int CenturyRegister = 0x32;
    private const int RegCentury = CenturyRegister;

    private const byte AUpdateInProgress = 0b1000_0000;
    private const byte ADividerMask = 0b0111_0000;
    private const byte ADividerNormal = 0b0010_0000; // 32.768 kHz time base; 11x holds the divider in reset
    private const byte ARateMask = 0b0000_1111;
    private const byte ADefault = ADividerNormal | 0x06; // 1024 Hz periodic rate, as firmware leaves it

    private const byte BSet = 0b1000_0000;
    private const byte BPeriodicEnable = 0b0100_0000;
    private const byte BAlarmEnable = 0b0010_0000;
    private const byte BUpdateEnable = 0b0001_0000;
    private const byte BSquareWave = 0b0000_1000;
    private const byte BBinary = 0b0000_0100;
    private const byte B24Hour = 0b0000_0010;
    private const byte BDefault = B24Hour;   // 24-hour BCD

    private const byte CIrqFlag = 0b1000_0000;
    private const byte CPeriodicFlag = 0b0100_0000;
    private const byte CAlarmFlag = 0b0010_0000;
    private const byte CUpdateFlag = 0b0001_0000;
    private const byte CInterruptFlags = CPeriodicFlag | CAlarmFlag | CUpdateFlag; // same bits as B's enables

    private const byte DValidRam = 0b1000_0000;

    private const byte HourPm = 0b1000_0000;
    private const byte AlarmDontCare = 0b1100_0000;

    // Memory-size fields, as QEMU's pc.c fills them and SeaBIOS reads them.
    private const int CmosBaseMemoryLow = 0x15;       // KiB below 640 KiB
    private const int CmosExtendedMemoryLow = 0x17;   // KiB above 1 MiB, capped at 0xFFFF
    private const int CmosExtendedMemory2Low = 0x30;  // the same again, where POST reports it
    private const int CmosMemoryAbove16MLow = 0x34;   // 64 KiB units between 16 MiB and 4 GiB, capped
    private const int CmosMemoryAbove4GLow = 0x5B;    // 64 KiB units above 4 GiB, three bytes

    // The rest of what QEMU's pc_cmos_init sets for the BIOS: equipment, boot order, vCPUs.
    private const int CmosFloppyTypes = 0x10;
    private const int CmosEquipment = 0x14;
    private const int CmosBootOrder1 = 0x38;          // third boot device in the high nibble; bit 0 skips the floppy signature check
    private const int CmosBootOrder2 = 0x3D;          // second boot device high, first low
    private const int CmosCpuCountLessOne = 0x5F;
    private const byte EquipmentFpu = 0b0000_0010, EquipmentPs2Mouse = 0b0000_0100;
    private const byte BootFloppy = 1, BootHardDisk = 2, BootCdrom = 3;

    private const ulong KiB = 1024;
    private const ulong MiB = 1024 * KiB;

    /// <summary>How long before each second UIP reads as set: the MC146818's t_BUC, 244 µs.</summary>
    private static readonly TimeSpan UpdateInProgressWindow = TimeSpan.FromTicks(2440);

    private static readonly KeyValuePair<string, object?> DeviceTag = new("device", "cmos-rtc");

    private readonly TimeProvider _time;
    private readonly IInterruptLine _irq;
    private readonly Lock _lock = new();
    private readonly byte[] _cmos = new byte[CmosSize];
    private readonly ITimer _periodicTimer;
    private readonly ITimer _updateTimer;

    private byte _index;
    private bool _nmiDisabled;
    private long _offsetTicks;          // guest time minus host time
    private DateTimeOffset _periodicBase; // periodic ticks fall at _periodicBase + n / frequency
    private long _periodsCounted;       // the last periodic tick accounted for in PF
    private long _secondsCounted;       // the last guest second (since 0001-01-01) accounted for in UF
    private bool _irqAsserted;
    private bool _disposed;

    public CmosRtc(TimeProvider time, IInterruptLine irq8, ulong memoryBelow4GiB = 0, ulong memoryAbove4GiB = 0, int cpuCount = 1)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(irq8);
        _time = time;
        _irq = irq8;

        _cmos[RegA] = ADefault;
        _cmos[RegB] = BDefault;
        _cmos[RegD] = DValidRam;
        WriteMemorySizes(memoryBelow4GiB, memoryAbove4GiB);
        WritePcConfiguration(cpuCount);

        DateTimeOffset now = time.GetUtcNow();
        _periodicBase = now;
        _secondsCounted = GuestSecond(now);

        // Both timers start stopped; ArmTimers starts one only while its interrupt is enabled.
        _periodicTimer = time.CreateTimer(OnTimer, this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _updateTimer = time.CreateTimer(OnTimer, this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Accesses past the two ports or wider than a byte.</summary>
    public long BadAccesses { get; private set; }

    /// <summary>Bit 7 of the last index write: the guest's NMI mask (the engine may honour it; the clock does not need it).</summary>
    public bool NmiDisabled
    {
        get
        {
            lock (_lock)
            {
                return _nmiDisabled;
            }
        }
    }

    private bool Binary => (_cmos[RegB] & BBinary) != 0;
    private bool TwentyFourHour => (_cmos[RegB] & B24Hour) != 0;
    private bool Frozen => (_cmos[RegB] & BSet) != 0;
    private bool DividerRunning => (_cmos[RegA] & ADividerMask) <= ADividerNormal;

    public void Read(ulong offset, Span<byte> data)
    {
        lock (_lock)
        {
            if (data.Length != 1 || offset >= PortCount)
            {
                CountBadAccess();
                data.Clear();
                return;
            }

            data[0] = offset == IndexOffset ? (byte)0xFF : ReadRegister(_index, _time.GetUtcNow());
        }
    }

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            if (data.Length != 1 || offset >= PortCount)
            {
                CountBadAccess();
                return;
            }

            if (offset == IndexOffset)
            {
                _index = (byte)(data[0] & IndexMask);
                _nmiDisabled = (data[0] & IndexNmiDisable) != 0;
                return;
            }

            WriteRegister(_index, data[0], _time.GetUtcNow());
        }
    }

    /// <summary>
    /// What the chip's RESET pin does on a machine reset: interrupt enables and square wave off, flags cleared. The
    /// time, the format and the CMOS bytes survive, as they do on battery.
    /// </summary>
    public void Reset()
    {
        lock (_lock)
        {
            _cmos[RegB] &= unchecked((byte)~(BPeriodicEnable | BAlarmEnable | BUpdateEnable | BSquareWave));
            _cmos[RegC] = 0;
            UpdateInterrupt();
            ArmTimers(_time.GetUtcNow());
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _periodicTimer.Dispose();
        _updateTimer.Dispose();
    }

    private byte ReadRegister(int register, DateTimeOffset now)
    {
        switch (register)
        {
            case RegSeconds or RegMinutes or RegHours or RegWeekday or RegDayOfMonth or RegMonth or RegYear or RegCentury:
                return Frozen ? _cmos[register] : TimeRegister(register, GuestTime(now));
            case RegA:
                return UpdateInProgress(now) ? (byte)(_cmos[RegA] | AUpdateInProgress) : _cmos[RegA];
            case RegC:
                CatchUp(now);
                byte flags = _cmos[RegC];
                if ((flags & _cmos[RegB] & CInterruptFlags) != 0)
                {
                    flags |= CIrqFlag;
                }

                _cmos[RegC] = 0;
                UpdateInterrupt();
                return flags;
            case RegD:
                return DValidRam;
            default:
                return _cmos[register];
        }
    }

    private void WriteRegister(int register, byte value, DateTimeOffset now)
    {
        switch (register)
        {
            case RegSeconds or RegMinutes or RegHours or RegWeekday or RegDayOfMonth or RegMonth or RegYear or RegCentury:
                if (Frozen)
                {
                    _cmos[register] = value;
                }
                else
                {
                    // A running clock takes the new field at once: freeze, overwrite, restart — keeping the
                    // position within the second, so writing the seconds does not move the next tick.
                    long fraction = GuestTime(now).Ticks % TimeSpan.TicksPerSecond;
                    StoreTime(GuestTime(now));
                    _cmos[register] = value;
                    StartFromRegisters(now, fraction);
                }

                break;
            case RegA:
                byte oldA = _cmos[RegA];
                _cmos[RegA] = (byte)(value & ~AUpdateInProgress);
                if (((oldA ^ _cmos[RegA]) & (ARateMask | ADividerMask)) != 0)
                {
                    RestartPeriodic(now);
                }

                ArmTimers(now);
                break;
            case RegB:
                WriteRegisterB(value, now);
                break;
            case RegC:
            case RegD:
                break; // read-only
            default:
                _cmos[register] = value;
                break;
        }
    }

    private void WriteRegisterB(byte value, DateTimeOffset now)
    {
        bool wasFrozen = Frozen;
        bool freezing = (value & BSet) != 0;
        if (freezing)
        {
            value &= unchecked((byte)~BUpdateEnable); // setting SET clears UIE (MC146818 data sheet)
        }

        // Bring the flags up to date first: enabling an interrupt whose flag is already set raises IRQ 8 at once
        // (IRQF = PF·PIE + AF·AIE + UF·UIE), and seconds that passed before a freeze still count.
        CatchUp(now);
        if (!wasFrozen && freezing)
        {
            _cmos[RegB] = value;
            // Snapshot in the format just chosen, so a guest switching to binary as it sets the clock reads binary.
            StoreTime(GuestTime(now));
        }
        else if (wasFrozen && !freezing)
        {
            // Read what the guest wrote in the format it was written in, then switch to the new one.
            StartFromRegisters(now, fraction: 0);
            _cmos[RegB] = value;
        }
        else
        {
            _cmos[RegB] = value;
        }

        UpdateInterrupt();
        ArmTimers(now);
    }

    /// <summary>The guest's wall-clock time: host UTC plus the offset the guest set, kept inside DateTime's range.</summary>
    private DateTime GuestTime(DateTimeOffset now)
    {
        long ticks = Math.Clamp(now.UtcTicks + _offsetTicks, DateTime.MinValue.Ticks, DateTime.MaxValue.Ticks);
        return new DateTime(ticks, DateTimeKind.Utc);
    }

    private long GuestSecond(DateTimeOffset now) => GuestTime(now).Ticks / TimeSpan.TicksPerSecond;

    private bool UpdateInProgress(DateTimeOffset now) =>
        !Frozen && DividerRunning &&
        GuestTime(now).Ticks % TimeSpan.TicksPerSecond >= TimeSpan.TicksPerSecond - UpdateInProgressWindow.Ticks;

    private byte TimeRegister(int register, DateTime time) => register switch
    {
        RegSeconds => Encode(time.Second),
        RegMinutes => Encode(time.Minute),
        RegHours => EncodeHours(time.Hour),
        RegWeekday => Encode((int)time.DayOfWeek + 1), // Sunday is 1
        RegDayOfMonth => Encode(time.Day),
        RegMonth => Encode(time.Month),
        RegYear => Encode(time.Year % 100),
        _ => Encode(time.Year / 100),
    };

    private void StoreTime(DateTime time)
    {
        foreach (int register in (ReadOnlySpan<int>)[RegSeconds, RegMinutes, RegHours, RegWeekday, RegDayOfMonth, RegMonth, RegYear, RegCentury])
        {
            _cmos[register] = TimeRegister(register, time);
        }
    }

    /// <summary>
    /// Restarts the clock from the time registers the guest wrote. A field past its range rolls over into the next
    /// one the way C's <c>mktime</c> does for QEMU (31 February is 3 March, minute 60 is the next hour); a zero day
    /// or month counts as 1. Every field is capped so that no guest value can throw.
    /// </summary>
    private void StartFromRegisters(DateTimeOffset now, long fraction)
    {
        int year = Math.Clamp(Decode(_cmos[RegCentury]) * 100 + Decode(_cmos[RegYear]), 1, 9000);
        DateTime time = new DateTime(year, 1, 1, 0, 0, 0, DateTimeKind.Utc)
            .AddMonths(Math.Max(Decode(_cmos[RegMonth]) - 1, 0))
            .AddDays(Math.Max(Decode(_cmos[RegDayOfMonth]) - 1, 0))
            .AddHours(DecodeHours(_cmos[RegHours]))
            .AddMinutes(Decode(_cmos[RegMinutes]))
            .AddSeconds(Decode(_cmos[RegSeconds]))
            .AddTicks(fraction);
        _offsetTicks = time.Ticks - now.UtcTicks;
        // The new time starts a new count of seconds: no UF for the jump itself.
        _secondsCounted = GuestSecond(now);
    }

    private byte Encode(int value) => Binary ? (byte)value : (byte)(((value / 10) << 4) | (value % 10));

    private int Decode(byte value) => Binary ? value : (value >> 4) * 10 + (value & 0x0F);

    private byte EncodeHours(int hour24)
    {
        if (TwentyFourHour)
        {
            return Encode(hour24);
        }

        int hour12 = hour24 % 12 == 0 ? 12 : hour24 % 12;
        return (byte)(Encode(hour12) | (hour24 >= 12 ? HourPm : 0));
    }

    private int DecodeHours(byte value)
    {
        if (TwentyFourHour)
        {
            return Decode(value);
        }

        return Decode((byte)(value & ~HourPm)) % 12 + ((value & HourPm) != 0 ? 12 : 0);
    }

    /// <summary>Sets the flags for whatever happened since they were last worked out.</summary>
    private void CatchUp(DateTimeOffset now)
    {
        if (!Frozen)
        {
            long second = GuestSecond(now);
            if (second > _secondsCounted)
            {
                _secondsCounted = second;
                _cmos[RegC] |= CUpdateFlag;
                if (AlarmMatches(GuestTime(now)))
                {
                    _cmos[RegC] |= CAlarmFlag;
                }
            }
        }

        if (PeriodicFrequency() is int frequency and > 0)
        {
            long period = PeriodIndex(now, frequency);
            if (period > _periodsCounted)
            {
                _periodsCounted = period;
                _cmos[RegC] |= CPeriodicFlag;
            }
        }
    }

    private bool AlarmMatches(DateTime time) =>
        AlarmFieldMatches(_cmos[RegSecondsAlarm], TimeRegister(RegSeconds, time)) &&
        AlarmFieldMatches(_cmos[RegMinutesAlarm], TimeRegister(RegMinutes, time)) &&
        AlarmFieldMatches(_cmos[RegHoursAlarm], TimeRegister(RegHours, time));

    // A value with both top bits set matches every value ("don't care"), in either format.
    private static bool AlarmFieldMatches(byte alarm, byte current) =>
        (alarm & AlarmDontCare) == AlarmDontCare || alarm == current;

    /// <summary>Periodic interrupts per second from register A's rate bits; 0 when off or the divider is stopped.</summary>
    private int PeriodicFrequency()
    {
        int rate = _cmos[RegA] & ARateMask;
        if (rate == 0 || !DividerRunning)
        {
            return 0;
        }

        // Rates 1 and 2 repeat rates 8 and 9 (256 and 128 Hz) on a 32.768 kHz time base.
        if (rate <= 2)
        {
            rate += 7;
        }

        return 32768 >> (rate - 1);
    }

    private long PeriodIndex(DateTimeOffset now, int frequency)
    {
        long elapsed = Math.Max(0, (now - _periodicBase).Ticks);
        return (long)((Int128)elapsed * frequency / TimeSpan.TicksPerSecond);
    }

    private void RestartPeriodic(DateTimeOffset now)
    {
        _periodicBase = now;
        _periodsCounted = 0;
    }

    private void ArmTimers(DateTimeOffset now)
    {
        if (_disposed)
        {
            return;
        }

        TimeSpan periodicDue = Timeout.InfiniteTimeSpan;
        if ((_cmos[RegB] & BPeriodicEnable) != 0 && PeriodicFrequency() is int frequency and > 0)
        {
            long next = PeriodIndex(now, frequency) + 1;
            long nextTicks = (long)(((Int128)next * TimeSpan.TicksPerSecond + frequency - 1) / frequency);
            periodicDue = RoundUpToMillisecond(_periodicBase.UtcTicks + nextTicks - now.UtcTicks);
        }

        TimeSpan updateDue = Timeout.InfiniteTimeSpan;
        if ((_cmos[RegB] & (BUpdateEnable | BAlarmEnable)) != 0 && !Frozen)
        {
            long intoSecond = GuestTime(now).Ticks % TimeSpan.TicksPerSecond;
            updateDue = RoundUpToMillisecond(TimeSpan.TicksPerSecond - intoSecond);
        }

        _periodicTimer.Change(periodicDue, Timeout.InfiniteTimeSpan);
        _updateTimer.Change(updateDue, Timeout.InfiniteTimeSpan);
    }

    // Host timers count in milliseconds: round up so a timer never fires just before its tick and has to spin.
    private static TimeSpan RoundUpToMillisecond(long ticks) =>
        TimeSpan.FromTicks(Math.Max(1, (ticks + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond)
            * TimeSpan.TicksPerMillisecond);

    /// <summary>
    /// Either timer's callback, on a thread-pool thread. It works the flags out from the clock and re-arms both
    /// timers from the state, so a late, early or stale callback does no harm.
    /// </summary>
    private static void OnTimer(object? state)
    {
        var rtc = (CmosRtc)state!;
        lock (rtc._lock)
        {
            if (rtc._disposed)
            {
                return;
            }

            DateTimeOffset now = rtc._time.GetUtcNow();
            rtc.CatchUp(now);
            rtc.UpdateInterrupt();
            rtc.ArmTimers(now);
        }
    }

    private void UpdateInterrupt()
    {
        bool asserted = (_cmos[RegC] & _cmos[RegB] & CInterruptFlags) != 0;
        if (asserted != _irqAsserted)
        {
            _irqAsserted = asserted;
            _irq.SetLevel(asserted);
        }
    }

    private void WriteMemorySizes(ulong below4GiB, ulong above4GiB)
    {
        ulong baseKiB = Math.Min(below4GiB / KiB, 640);
        WriteWord(CmosBaseMemoryLow, baseKiB);

        ulong extendedKiB = below4GiB > MiB ? Math.Min((below4GiB - MiB) / KiB, 0xFFFF) : 0;
        WriteWord(CmosExtendedMemoryLow, extendedKiB);
        WriteWord(CmosExtendedMemory2Low, extendedKiB);

        ulong above16M = below4GiB > 16 * MiB ? Math.Min((below4GiB - 16 * MiB) / (64 * KiB), 0xFFFF) : 0;
        WriteWord(CmosMemoryAbove16MLow, above16M);

        ulong above4G = Math.Min(above4GiB / (64 * KiB), 0xFF_FFFF);
        WriteWord(CmosMemoryAbove4GLow, above4G);
        _cmos[CmosMemoryAbove4GLow + 2] = (byte)(above4G >> 16);
    }

    private void WritePcConfiguration(int cpuCount)
    {
        _cmos[CmosFloppyTypes] = 0; // no floppy drives
        _cmos[CmosEquipment] = EquipmentFpu | EquipmentPs2Mouse;
        _cmos[CmosBootOrder2] = BootFloppy << 4 | BootHardDisk;
        _cmos[CmosBootOrder1] = BootCdrom << 4;
        _cmos[CmosCpuCountLessOne] = (byte)Math.Clamp(cpuCount - 1, 0, 255);
    }

    private void WriteWord(int register, ulong value)
    {
        _cmos[register] = (byte)value;
        _cmos[register + 1] = (byte)(value >> 8);
    }

    /// <summary>Counts a bad access; the caller holds the lock.</summary>
    private void CountBadAccess()
    {
        BadAccesses++;
        DeviceCounters.BadAccesses.Add(1, DeviceTag);
    }
}
