using System.Buffers.Binary;
using Microsoft.Extensions.Time.Testing;
using Platform.Devices.Legacy;
using Platform.Devices.Tests.Fakes;

namespace Platform.Devices.Tests.Legacy;

// The HPET as an OS programs it (Linux's hpet clocksource and clockevents, Windows' timer): the capabilities, the
// 100 MHz counter, one-shot and periodic comparators on an IOAPIC pin or the legacy IRQs, level interrupts cleared
// through the status register, 32-bit mode; and a guest's nonsense never breaking it. Time is a fake clock.
public sealed class HpetTests : IDisposable
{
    private const ulong Config = 0x010, Status = 0x020, Counter = 0x0F0;
    private const ulong Enable = 1, LegacyRoute = 2;
    private const ulong Level = 1 << 1, InterruptEnable = 1 << 2, Periodic = 1 << 3, ValueSet = 1 << 6, Mode32 = 1 << 8;

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 6, 5, 0, 0, TimeSpan.Zero));
    private readonly Dictionary<int, RecordingInterruptLine> _lines = [];
    private readonly List<bool> _legacy = [];
    private readonly Hpet _hpet;

    public HpetTests()
    {
        _clock.AutoAdvanceAmount = TimeSpan.Zero;
        _hpet = new Hpet(_clock, gsi => Line(gsi)) { LegacyReplacementChanged = _legacy.Add };
    }

    public void Dispose() => _hpet.Dispose();

    private static ulong TimerConfig(int n) => 0x100 + (0x20 * (ulong)n);

    private static ulong Comparator(int n) => TimerConfig(n) + 8;

    private static ulong Route(int pin) => (ulong)pin << 9;

    [Fact]
    public void The_capabilities_say_three_64_bit_timers_legacy_capable_vendor_8086_and_a_10_ns_period_as_QEMUs()
    {
        Read64(0x000).Should().Be(0x0098_9680_8086_A201ul);
        Read32(0x000).Should().Be(0x8086_A201u);
        Read32(0x004).Should().Be(10_000_000u, "femtoseconds per tick");
        Read64(TimerConfig(2)).Should().Be(0x0000_0004_0000_0030ul, "periodic and 64-bit capable, routable to IOAPIC pin 2");
        Read64(Comparator(0)).Should().Be(ulong.MaxValue);
        Read64(Config).Should().Be(0);
    }

    [Fact]
    public void The_counter_holds_while_halted_can_be_set_then_and_runs_at_100_MHz_once_enabled()
    {
        _clock.Advance(TimeSpan.FromMilliseconds(5));
        Read64(Counter).Should().Be(0);
        Write64(Counter, 1_000);

        Write64(Config, Enable);
        _clock.Advance(TimeSpan.FromMilliseconds(2));

        Read64(Counter).Should().Be(201_000);
        Write64(Counter, 5);
        Read64(Counter).Should().Be(201_000, "the counter is written only while halted");
        _hpet.BadAccesses.Should().Be(1);
        Write64(Config, 0);
        _clock.Advance(TimeSpan.FromMilliseconds(2));
        Read64(Counter).Should().Be(201_000);
        Read32(Counter + 4).Should().Be(0);
    }

    [Fact]
    public void A_one_shot_comparator_on_IOAPIC_pin_2_fires_one_edge_when_the_counter_reaches_it()
    {
        Write64(TimerConfig(0), InterruptEnable | Route(2));
        Write64(Comparator(0), 250_000); // 2.5 ms
        Write64(Config, Enable);

        _clock.Advance(TimeSpan.FromMilliseconds(2));
        Line(2).RisingEdges.Should().Be(0);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Line(2).RisingEdges.Should().Be(1);
        Line(2).Asserted.Should().BeFalse("an edge");
        _clock.Advance(TimeSpan.FromSeconds(1));
        Line(2).RisingEdges.Should().Be(1, "one-shot");
        Read64(Status).Should().Be(0, "edge interrupts keep no status");
    }

    [Fact]
    public void A_periodic_comparator_fires_every_period_and_moves_its_comparator_by_it()
    {
        Write64(TimerConfig(0), InterruptEnable | Periodic | ValueSet | Route(2));
        Write64(Comparator(0), 100_000); // the first match (VAL_SET)...
        Write64(Comparator(0), 100_000); // ...then the period: 1 ms
        Write64(Config, Enable);

        for (int i = 0; i < 10; i++)
        {
            _clock.Advance(TimeSpan.FromMilliseconds(1));
        }

        Line(2).RisingEdges.Should().Be(10);
        Read64(Comparator(0)).Should().Be(1_100_000, "the next match");
        _hpet.Interrupts.Should().Be(10);
    }

    [Fact]
    public void A_periodic_timer_the_host_fell_behind_on_delivers_once_and_catches_up()
    {
        Write64(TimerConfig(0), InterruptEnable | Periodic | ValueSet | Route(2));
        Write64(Comparator(0), 100_000);
        Write64(Comparator(0), 100_000);
        Write64(Config, Enable);

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        _clock.SetUtcNow(_clock.GetUtcNow() + TimeSpan.FromSeconds(10)); // no timer ran for 10 s
        _clock.Advance(TimeSpan.Zero);

        Line(2).RisingEdges.Should().BeLessThan(5);
        Read64(Comparator(0)).Should().BeGreaterThan(Read64(Counter));
    }

    [Fact]
    public void Legacy_replacement_sends_timer_0_to_IRQ_0_and_timer_1_to_IRQ_8_and_tells_the_machine()
    {
        Write64(TimerConfig(0), InterruptEnable | Route(2));
        Write64(TimerConfig(1), InterruptEnable | Route(2));
        Write64(Comparator(0), 100_000);
        Write64(Comparator(1), 200_000);

        Write64(Config, Enable | LegacyRoute);
        _clock.Advance(TimeSpan.FromMilliseconds(3));

        Line(0).RisingEdges.Should().Be(1);
        Line(8).RisingEdges.Should().Be(1);
        Line(2).RisingEdges.Should().Be(0);
        Write64(Config, Enable);
        _legacy.Should().Equal(true, false);
    }

    [Fact]
    public void A_level_triggered_timer_holds_its_line_and_status_until_the_status_bit_is_cleared()
    {
        Write64(TimerConfig(1), InterruptEnable | Level | Route(2));
        Write64(Comparator(1), 100_000);
        Write64(Config, Enable);
        _clock.Advance(TimeSpan.FromMilliseconds(1));

        Line(2).Asserted.Should().BeTrue();
        Read64(Status).Should().Be(0b10);
        Write32(Status, 0b01);
        Line(2).Asserted.Should().BeTrue("only a 1 in the timer's own bit clears it");

        Write32(Status, 0b10);

        Line(2).Asserted.Should().BeFalse();
        Read64(Status).Should().Be(0);
    }

    [Fact]
    public void In_32_bit_mode_the_comparator_is_32_bits_and_matches_after_the_low_half_wraps()
    {
        Write64(Counter, 0xFFFF_FF00);
        Write64(TimerConfig(0), InterruptEnable | Mode32 | Route(2));
        Write64(Comparator(0), 0x1_0000_0010);
        Read64(Comparator(0)).Should().Be(0x10, "a 32-bit comparator");
        Write64(Config, Enable);

        _clock.Advance(TimeSpan.FromMilliseconds(1)); // 100000 ticks: the low half wrapped past 0x10

        Line(2).RisingEdges.Should().Be(1);
    }

    [Fact]
    public void Dword_writes_set_each_half_of_a_64_bit_comparator()
    {
        Write32(Comparator(0), 0x89AB_CDEF);
        Write32(Comparator(0) + 4, 0x0123_4567);

        Read64(Comparator(0)).Should().Be(0x0123_4567_89AB_CDEFul);
    }

    [Fact]
    public void Odd_accesses_read_zeros_and_are_counted()
    {
        Span<byte> two = stackalloc byte[2];
        two.Fill(0xAA);
        _hpet.Read(0x000, two);
        two.ToArray().Should().Equal(0, 0);
        _hpet.Write(0x002, stackalloc byte[4]);
        _hpet.Write(0x3FC + 4, stackalloc byte[4]);
        _hpet.Write(0x000, stackalloc byte[8]); // read-only

        _hpet.BadAccesses.Should().Be(4);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(2026)]
    public void Random_programming_of_every_register_never_breaks_it_or_floods_the_host(int seed)
    {
        var random = new Random(seed);
        int callbacks = 0;
        using var hpet = new Hpet(_clock, gsi =>
        {
            gsi.Should().BeInRange(0, Hpet.IoApicPins - 1);
            Interlocked.Increment(ref callbacks);
            return new RecordingInterruptLine();
        });
        byte[] value = new byte[8];
        ulong[] interesting = [0, 1, ulong.MaxValue, 0xFFFF_FFFF, 0x8000_0000_0000_0000, Periodic | InterruptEnable | Route(31), Enable | LegacyRoute];
        for (int i = 0; i < 5_000; i++)
        {
            ulong offset = (ulong)random.Next(0, 0x400 + 8) & ~3ul;
            if (random.Next(4) == 0)
            {
                offset = random.Next(3) switch { 0 => Config, 1 => TimerConfig(random.Next(3)), _ => Comparator(random.Next(3)) };
            }

            if (random.Next(2) == 0)
            {
                random.NextBytes(value);
            }
            else
            {
                BinaryPrimitives.WriteUInt64LittleEndian(value, interesting[random.Next(interesting.Length)]);
            }

            int width = random.Next(3) switch { 0 => 4, 1 => 8, _ => random.Next(1, 9) };
            hpet.Write(offset, value.AsSpan(0, width));
            hpet.Read(offset, value.AsSpan(0, width));
            if (random.Next(16) == 0)
            {
                _clock.Advance(TimeSpan.FromMilliseconds(random.Next(0, 50)));
            }
        }

        // Whatever it was left with, an hour of time costs at most a host timer callback a millisecond per timer.
        _clock.Advance(TimeSpan.FromHours(1));
        hpet.Interrupts.Should().BeLessThanOrEqualTo((5_000 * 3) + (3 * 3_600_000));
    }

    [Fact]
    public void A_period_of_0_fires_once_and_a_route_past_the_IOAPIC_goes_nowhere()
    {
        Write64(TimerConfig(0), InterruptEnable | Periodic | ValueSet | Route(2));
        Write64(Comparator(0), 100_000);
        Write64(Comparator(0), 0);
        Write64(TimerConfig(1), InterruptEnable | Route(30));
        Write64(Comparator(1), 100_000);
        Write64(Config, Enable);

        _clock.Advance(TimeSpan.FromSeconds(1));

        Line(2).RisingEdges.Should().Be(1);
        _lines.Keys.Should().NotContain(30);
        _hpet.Interrupts.Should().Be(2, "both matched; the second had nowhere to go");
    }

    private RecordingInterruptLine Line(int gsi)
    {
        if (!_lines.TryGetValue(gsi, out var line))
        {
            _lines[gsi] = line = new RecordingInterruptLine();
        }

        return line;
    }

    private ulong Read64(ulong offset)
    {
        Span<byte> data = stackalloc byte[8];
        _hpet.Read(offset, data);
        return BinaryPrimitives.ReadUInt64LittleEndian(data);
    }

    private uint Read32(ulong offset)
    {
        Span<byte> data = stackalloc byte[4];
        _hpet.Read(offset, data);
        return BinaryPrimitives.ReadUInt32LittleEndian(data);
    }

    private void Write64(ulong offset, ulong value)
    {
        Span<byte> data = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(data, value);
        _hpet.Write(offset, data);
    }

    private void Write32(ulong offset, uint value)
    {
        Span<byte> data = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(data, value);
        _hpet.Write(offset, data);
    }
}
