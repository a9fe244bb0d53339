using Platform.Devices.Abstractions;

namespace Platform.Devices.Legacy;

// The comparators: their configuration, arming the host timer for the next match, and the interrupt a match raises.
public sealed partial class Hpet
{
    private const ulong CapabilitiesRegister = 0x000, ConfigurationRegister = 0x010, InterruptStatusRegister = 0x020,
        MainCounterRegister = 0x0F0, FirstTimerRegister = 0x100, TimerStride = 0x20;
    private const ulong TimerConfigField = 0x00, TimerComparatorField = 0x08;
    private const ulong CapCounter64 = 1 << 13, CapLegacyRoute = 1 << 15;
    private const ulong ConfigEnable = 1 << 0, ConfigLegacyRoute = 1 << 1;

    // Tn_CONF_CAP bits (HPET 1.0a, 2.3.8).
    private const ulong TimerLevel = 1 << 1, TimerInterruptEnable = 1 << 2, TimerPeriodic = 1 << 3, TimerPeriodicCapable = 1 << 4,
        TimerSize64Capable = 1 << 5, TimerValueSet = 1 << 6, TimerMode32 = 1 << 8;
    private const int TimerRouteShift = 9;
    private const ulong TimerRouteMask = 0x1Ful << TimerRouteShift;
    private const ulong TimerWritable = TimerLevel | TimerInterruptEnable | TimerPeriodic | TimerValueSet | TimerMode32 | TimerRouteMask;
    /// <summary>Read-only bits every timer shows, as QEMU's: periodic and 64-bit capable, the IOAPIC pins it may use.</summary>
    private const ulong TimerFixedBits = TimerPeriodicCapable | TimerSize64Capable | ((ulong)RouteCapability << 32);

    /// <summary>A comparator far in the future only wakes the host this often, to look again.</summary>
    private static readonly TimeSpan LongestWait = TimeSpan.FromDays(1);

    private const int LegacyTimer0Gsi = 0, LegacyTimer1Gsi = 8;

    private void WriteConfiguration(ulong value)
    {
        bool wasEnabled = Enabled, wasLegacy = LegacyRoute;
        ulong counter = Counter();
        _configuration = value & (ConfigEnable | ConfigLegacyRoute);
        if (Enabled && !wasEnabled)
        {
            _startedAt = _time.GetTimestamp();
            // A comparator never written (all ones) waits for its first write, as QEMU's does.
            foreach (var timer in _timers.Where(t => t.Comparator != ulong.MaxValue))
            {
                Arm(timer);
            }
        }
        else if (!Enabled && wasEnabled)
        {
            _counterAtStart = counter;
            foreach (var timer in _timers)
            {
                timer.Host.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }
        }

        foreach (var timer in _timers)
        {
            DriveLevel(timer);
        }

        if (LegacyRoute != wasLegacy)
        {
            LegacyReplacementChanged?.Invoke(LegacyRoute);
        }
    }

    /// <summary>General Interrupt Status: a 1 clears a level-triggered timer's status and drops its line.</summary>
    private void ClearInterruptStatus(ulong value)
    {
        _interruptStatus &= ~value;
        foreach (var timer in _timers)
        {
            DriveLevel(timer);
        }
    }

    private void WriteTimerConfig(TimerState timer, ulong value)
    {
        ulong old = timer.Config;
        timer.Config = value & TimerWritable;
        if ((timer.Config & TimerMode32) != 0)
        {
            timer.Comparator = (uint)timer.Comparator;
            timer.Period = (uint)timer.Period;
        }

        if ((timer.Config & TimerLevel) == 0)
        {
            _interruptStatus &= ~(1ul << timer.Index); // edge timers keep no status
        }

        if ((old & TimerInterruptEnable) == 0 && (timer.Config & TimerInterruptEnable) != 0)
        {
            Arm(timer);
        }

        DriveLevel(timer);
    }

    /// <summary>
    /// The comparator register: in one-shot mode the comparator; in periodic mode the period, and the comparator too when
    /// Tn_VAL_SET_CNF was set just before (which the write clears), as QEMU's HPET has it.
    /// </summary>
    private void WriteComparator(TimerState timer, Func<ulong, ulong> merge)
    {
        bool mode32 = (timer.Config & TimerMode32) != 0;
        bool periodic = (timer.Config & TimerPeriodic) != 0;
        if (!periodic || (timer.Config & TimerValueSet) != 0)
        {
            ulong comparator = merge(timer.Comparator);
            timer.Comparator = mode32 ? (uint)comparator : comparator;
        }

        if (periodic)
        {
            ulong period = merge(timer.Period);
            timer.Period = mode32 ? (uint)period : period;
        }

        timer.Config &= ~TimerValueSet;
        Arm(timer);
    }

    /// <summary>Sets the host timer for the comparator's next match (a comparator already passed is due at once).</summary>
    private void Arm(TimerState timer)
    {
        if (_disposed)
        {
            return;
        }

        if (!Enabled)
        {
            timer.Host.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }

        ulong ticks = TicksUntilMatch(timer, Counter());
        UInt128 hostTicks = (UInt128)ticks * TimeSpan.TicksPerSecond / TicksPerSecond;
        var wait = hostTicks >= (UInt128)LongestWait.Ticks ? LongestWait : TimeSpan.FromTicks((long)hostTicks);
        // Round up to the host timer's millisecond: a shorter wait would be rounded to zero and find the match not yet due.
        wait = TimeSpan.FromMilliseconds(Math.Max(1, Math.Ceiling(wait.TotalMilliseconds)));
        timer.Host.Change(wait, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Counter ticks to the match, at least 1; 0 when it is due now (the comparator reached or passed).</summary>
    private static ulong TicksUntilMatch(TimerState timer, ulong counter)
    {
        if ((timer.Config & TimerMode32) != 0)
        {
            int ahead = (int)((uint)timer.Comparator - (uint)counter);
            return ahead > 0 ? (ulong)ahead : 0;
        }

        long distance = (long)(timer.Comparator - counter);
        return distance > 0 ? (ulong)distance : 0;
    }

    private void OnHostTimer(int index)
    {
        lock (_lock)
        {
            if (_disposed || !Enabled)
            {
                return;
            }

            var timer = _timers[index];
            ulong counter = Counter();
            if (TicksUntilMatch(timer, counter) != 0)
            {
                Arm(timer); // woken early (a long wait's check-in): not due yet
                return;
            }

            Fire(timer);
            ulong period = timer.Period;
            if ((timer.Config & TimerPeriodic) == 0 || period == 0)
            {
                return; // one-shot (a period of 0 too): nothing more until the guest writes the comparator again
            }

            // Past the counter by whole periods: a host that fell behind delivers one interrupt, not one per period missed.
            if ((timer.Config & TimerMode32) != 0)
            {
                uint lag = (uint)counter - (uint)timer.Comparator;
                timer.Comparator = (uint)((uint)timer.Comparator + (((lag / (uint)period) + 1) * (uint)period));
            }
            else
            {
                ulong lag = counter - timer.Comparator;
                timer.Comparator += ((lag / period) + 1) * period;
            }

            Arm(timer);
        }
    }

    /// <summary>A match: an edge on the timer's route, or, level-triggered, its status bit and a line held up until cleared.</summary>
    private void Fire(TimerState timer)
    {
        if ((timer.Config & TimerInterruptEnable) == 0)
        {
            return;
        }

        Interlocked.Increment(ref _interrupts);
        if ((timer.Config & TimerLevel) != 0)
        {
            _interruptStatus |= 1ul << timer.Index;
            DriveLevel(timer);
            return;
        }

        if (Line(timer) is { } line)
        {
            line.SetLevel(true);
            line.SetLevel(false);
        }
    }

    /// <summary>Holds a level-triggered timer's line up while its status bit, its interrupt and the HPET are all on.</summary>
    private void DriveLevel(TimerState timer)
    {
        bool up = (timer.Config & TimerLevel) != 0 && (timer.Config & TimerInterruptEnable) != 0 && Enabled
            && (_interruptStatus & (1ul << timer.Index)) != 0;
        var line = up ? Line(timer) : null;
        if (!ReferenceEquals(line, timer.Driven))
        {
            timer.Driven?.SetLevel(false);
            line?.SetLevel(true);
            timer.Driven = line;
        }
    }

    /// <summary>Where the timer interrupts: IRQ 0 or 8 in legacy replacement mode (timers 0 and 1), else its IOAPIC pin.</summary>
    private IInterruptLine? Line(TimerState timer)
    {
        int gsi = LegacyRoute && timer.Index < 2
            ? (timer.Index == 0 ? LegacyTimer0Gsi : LegacyTimer1Gsi)
            : (int)((timer.Config & TimerRouteMask) >> TimerRouteShift);
        if (gsi >= IoApicPins)
        {
            Interlocked.Increment(ref _badAccesses); // a route past the IOAPIC's pins goes nowhere
            return null;
        }

        return timer.Lines[gsi] ??= _gsi(gsi);
    }

    private sealed class TimerState(int index, ITimer host)
    {
        public int Index { get; } = index;

        public ITimer Host { get; } = host;

        public ulong Config { get; set; }

        public ulong Comparator { get; set; } = ulong.MaxValue;

        public ulong Period { get; set; }

        /// <summary>The line a level-triggered interrupt holds up now; null when none.</summary>
        public IInterruptLine? Driven { get; set; }

        /// <summary>Lines by GSI, fetched once.</summary>
        public IInterruptLine?[] Lines { get; } = new IInterruptLine?[IoApicPins];
    }
}
