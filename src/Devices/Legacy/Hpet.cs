using System.Buffers.Binary;
using Platform.Devices.Abstractions;

namespace Platform.Devices.Legacy;

/// <summary>
/// The High Precision Event Timer as QEMU's pc machine has it (IA-PC HPET 1.0a): 1 KiB of registers at
/// <see cref="BaseAddress"/>, a 64-bit main counter at 100 MHz (period 10 ns), and three comparators, each one-shot or
/// periodic, 64- or 32-bit, edge or level, routed to an IOAPIC pin or, in legacy replacement mode, timer 0 to IRQ 0 and
/// timer 1 to IRQ 8 (where the PIT's and the RTC's interrupts went). Registers take aligned 4- and 8-byte accesses.
/// </summary>
/// <remarks>
/// <para>The counter is computed from the host's monotonic clock (<see cref="TimeProvider.GetTimestamp"/>) while it
/// runs; each comparator has a host timer armed for its next match. A match fires one interrupt; a periodic comparator
/// then moves past the counter by whole periods, so a host that fell behind delivers one interrupt, not a storm.</para>
/// <para>Misprogramming is counted and survived: a period of 0 acts as one-shot, a comparator far ahead only wakes the
/// host once a day to look again, a route past the IOAPIC's pins interrupts nothing, an odd access reads zeros.</para>
/// <para>One lock serializes the registers and the host timers' callbacks; interrupt lines are driven under it (the
/// engine's lines only call KVM).</para>
/// </remarks>
public sealed partial class Hpet : IBusDevice, IDisposable
{
    public const ulong BaseAddress = 0xFED0_0000;
    public const ulong Size = 0x400;
    public const int TimerCount = 3;
    /// <summary>The counter's period in femtoseconds: 10 ns, a 100 MHz counter, as QEMU's.</summary>
    public const uint PeriodFemtoseconds = 10_000_000;
    public const ulong TicksPerSecond = 1_000_000_000_000_000 / PeriodFemtoseconds;
    /// <summary>The IOAPIC pins a timer may name; QEMU's pc HPET advertises only pin 2 in Tn_INT_ROUTE_CAP.</summary>
    public const uint RouteCapability = 1u << 2;
    public const int IoApicPins = 24;

    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly Func<int, IInterruptLine?> _gsi;
    private readonly TimerState[] _timers = new TimerState[TimerCount];
    private ulong _configuration;
    private ulong _interruptStatus;
    private ulong _counterAtStart; // the counter's value when it was last started (or its value while halted)
    private long _startedAt;       // the host timestamp it was started at
    private long _badAccesses;
    private long _interrupts;
    private bool _disposed;

    /// <param name="gsi">The interrupt line of a GSI (0–23), for legacy IRQs 0 and 8 and the IOAPIC pins.</param>
    public Hpet(TimeProvider time, Func<int, IInterruptLine?> gsi)
    {
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _gsi = gsi ?? throw new ArgumentNullException(nameof(gsi));
        for (int i = 0; i < TimerCount; i++)
        {
            int index = i;
            _timers[i] = new TimerState(index, time.CreateTimer(_ => OnHostTimer(index), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan));
        }
    }

    /// <summary>Told when legacy replacement routing turns on or off, so the machine can silence the PIT and the RTC's IRQ 8.</summary>
    public Action<bool>? LegacyReplacementChanged { get; set; }

    /// <summary>Accesses ignored: odd widths or alignment, unknown offsets, writes to read-only registers.</summary>
    public long BadAccesses => Interlocked.Read(ref _badAccesses);

    /// <summary>Interrupts raised (edges, or level assertions).</summary>
    public long Interrupts => Interlocked.Read(ref _interrupts);

    /// <summary>GCAP_ID: revision 1, three timers, 64-bit counter, legacy replacement capable, vendor 8086, period 10 ns.</summary>
    public static ulong Capabilities =>
        ((ulong)PeriodFemtoseconds << 32) | (0x8086ul << 16) | CapLegacyRoute | CapCounter64 | ((ulong)(TimerCount - 1) << 8) | 1;

    public void Read(ulong offset, Span<byte> data)
    {
        if (!IsAligned(offset, data.Length))
        {
            Interlocked.Increment(ref _badAccesses);
            data.Clear();
            return;
        }

        ulong value;
        lock (_lock)
        {
            value = ReadRegister(offset & ~7ul);
        }

        if (data.Length == 8)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(data, value);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(data, (uint)(value >> (int)(8 * (offset & 4))));
        }
    }

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        if (!IsAligned(offset, data.Length))
        {
            Interlocked.Increment(ref _badAccesses);
            return;
        }

        ulong register = offset & ~7ul;
        // A dword write replaces its half of a register and keeps the other half of whatever value it lands on.
        Func<ulong, ulong> merge;
        if (data.Length == 8)
        {
            ulong whole = BinaryPrimitives.ReadUInt64LittleEndian(data);
            merge = _ => whole;
        }
        else
        {
            int shift = (int)(8 * (offset & 4));
            ulong half = (ulong)BinaryPrimitives.ReadUInt32LittleEndian(data) << shift;
            merge = old => (old & ~(0xFFFF_FFFFul << shift)) | half;
        }

        lock (_lock)
        {
            if (!WriteRegister(register, merge))
            {
                Interlocked.Increment(ref _badAccesses);
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
        }

        foreach (var timer in _timers)
        {
            timer.Host.Dispose();
        }
    }

    private static bool IsAligned(ulong offset, int length) =>
        (length == 4 || length == 8) && (offset & (ulong)(length - 1)) == 0 && offset + (ulong)length <= Size;

    private bool Enabled => (_configuration & ConfigEnable) != 0;

    private bool LegacyRoute => (_configuration & ConfigLegacyRoute) != 0;

    /// <summary>The main counter now: running from its start value while enabled, frozen while halted.</summary>
    private ulong Counter()
    {
        if (!Enabled)
        {
            return _counterAtStart;
        }

        long elapsed = Math.Max(0, _time.GetTimestamp() - _startedAt);
        return _counterAtStart + (ulong)((UInt128)(ulong)elapsed * TicksPerSecond / (ulong)_time.TimestampFrequency);
    }

    private ulong ReadRegister(ulong register)
    {
        switch (register)
        {
            case CapabilitiesRegister:
                return Capabilities;
            case ConfigurationRegister:
                return _configuration;
            case InterruptStatusRegister:
                return _interruptStatus;
            case MainCounterRegister:
                return Counter();
        }

        if (TimerRegister(register) is not var (timer, field))
        {
            return 0;
        }

        return field switch
        {
            TimerConfigField => timer.Config | TimerFixedBits,
            TimerComparatorField => timer.Comparator,
            _ => 0, // FSB route: no FSB delivery offered
        };
    }

    private bool WriteRegister(ulong register, Func<ulong, ulong> merge)
    {
        switch (register)
        {
            case CapabilitiesRegister:
                return false;
            case ConfigurationRegister:
                WriteConfiguration(merge(_configuration));
                return true;
            case InterruptStatusRegister:
                ClearInterruptStatus(merge(0)); // write 1 to clear: the other half's zeros clear nothing
                return true;
            case MainCounterRegister:
                if (Enabled)
                {
                    return false; // the counter may be written only while halted (HPET 1.0a, 2.3.4)
                }

                _counterAtStart = merge(_counterAtStart);
                return true;
        }

        if (TimerRegister(register) is not var (timer, field))
        {
            return false;
        }

        switch (field)
        {
            case TimerConfigField:
                WriteTimerConfig(timer, merge(timer.Config));
                return true;
            case TimerComparatorField:
                WriteComparator(timer, merge);
                return true;
            default:
                return false;
        }
    }

    /// <summary>The timer and its field for a register offset in the timer block, or null.</summary>
    private (TimerState Timer, ulong Field)? TimerRegister(ulong register)
    {
        if (register < FirstTimerRegister)
        {
            return null;
        }

        ulong index = (register - FirstTimerRegister) / TimerStride;
        return index < TimerCount ? (_timers[index], (register - FirstTimerRegister) % TimerStride) : null;
    }
}
