using Microsoft.Extensions.Time.Testing;
using Platform.Devices.Legacy;
using Platform.Devices.Tests.Fakes;

namespace Platform.Devices.Tests.Legacy;

// Drives the RTC through ports 0x70/0x71 (offsets 0 and 1) as Linux's mc146818 code and firmware do, on a fake clock.
public sealed class CmosRtcTests : IDisposable
{
    private const ulong Index = 0, Data = 1;
    private const byte Seconds = 0x00, SecondsAlarm = 0x01, Minutes = 0x02, MinutesAlarm = 0x03, Hours = 0x04;
    private const byte HoursAlarm = 0x05, Weekday = 0x06, Day = 0x07, Month = 0x08, Year = 0x09, Century = 0x32;
    private const byte RegA = 0x0A, RegB = 0x0B, RegC = 0x0C, RegD = 0x0D;

    private static readonly DateTimeOffset Thanksgiving = new(2026, 11, 26, 6, 30, 59, TimeSpan.Zero); // a Thursday

    private readonly FakeTimeProvider _clock = new(Thanksgiving);
    private readonly RecordingInterruptLine _irq = new();
    private readonly CmosRtc _rtc;

    public CmosRtcTests() => _rtc = new CmosRtc(_clock, _irq);

    public void Dispose() => _rtc.Dispose();

    private byte In(ulong offset)
    {
        Span<byte> b = stackalloc byte[1];
        _rtc.Read(offset, b);
        return b[0];
    }

    private void Out(ulong offset, byte value) => _rtc.Write(offset, [value]);

    private byte Cmos(byte index)
    {
        Out(Index, index);
        return In(Data);
    }

    private void SetCmos(byte index, byte value)
    {
        Out(Index, index);
        Out(Data, value);
    }

    [Theory]
    [InlineData(Seconds, 0x59)]
    [InlineData(Minutes, 0x30)]
    [InlineData(Hours, 0x06)]
    [InlineData(Weekday, 0x05)] // Sunday is 1
    [InlineData(Day, 0x26)]
    [InlineData(Month, 0x11)]
    [InlineData(Year, 0x26)]
    [InlineData(Century, 0x20)]
    [InlineData(RegA, 0x26)]    // 32.768 kHz divider, 1024 Hz rate
    [InlineData(RegB, 0x02)]    // 24-hour BCD
    [InlineData(RegC, 0x00)]
    [InlineData(RegD, 0x80)]    // RAM and time valid
    public void Time_and_status_registers_read_in_24_hour_BCD_by_default(byte register, byte expected)
    {
        Cmos(register).Should().Be(expected);
    }

    [Theory]
    [InlineData(Seconds, 59)]
    [InlineData(Minutes, 30)]
    [InlineData(Hours, 6)]
    [InlineData(Day, 26)]
    [InlineData(Month, 11)]
    [InlineData(Year, 26)]
    [InlineData(Century, 20)]
    public void Binary_mode_reads_the_same_time_in_binary(byte register, byte expected)
    {
        SetCmos(RegB, 0x06);
        Cmos(register).Should().Be(expected);
    }

    [Theory]
    [InlineData(0, 0x12, 0x0C)]  // midnight is 12 AM
    [InlineData(6, 0x06, 0x06)]
    [InlineData(12, 0x92, 0x8C)] // noon is 12 PM: bit 7 marks PM
    [InlineData(18, 0x86, 0x86)]
    [InlineData(23, 0x91, 0x8B)]
    public void Twelve_hour_mode_marks_PM_in_bit_7(int hour, byte bcd, byte binary)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 26, hour, 5, 0, TimeSpan.Zero));
        using var rtc = new CmosRtc(clock, _irq);
        Span<byte> value = stackalloc byte[1];
        rtc.Write(Index, [RegB]);
        rtc.Write(Data, [0x00]);
        rtc.Write(Index, [Hours]);
        rtc.Read(Data, value);
        value[0].Should().Be(bcd);

        rtc.Write(Index, [RegB]);
        rtc.Write(Data, [0x04]);
        rtc.Write(Index, [Hours]);
        rtc.Read(Data, value);
        value[0].Should().Be(binary);
    }

    [Fact]
    public void UIP_is_set_only_in_the_last_244_microseconds_of_a_second()
    {
        (Cmos(RegA) & 0x80).Should().Be(0);
        _clock.Advance(TimeSpan.FromMicroseconds(999_700));
        (Cmos(RegA) & 0x80).Should().Be(0, "300 µs remain");
        _clock.Advance(TimeSpan.FromMicroseconds(100));
        Cmos(RegA).Should().Be(0xA6, "200 µs remain");
        Cmos(Seconds).Should().Be(0x59, "the update has not happened yet");
        _clock.Advance(TimeSpan.FromMicroseconds(300));
        Cmos(RegA).Should().Be(0x26);
        Cmos(Seconds).Should().Be(0x00);
        Cmos(Minutes).Should().Be(0x31);
    }

    [Fact]
    public void SET_freezes_the_clock_and_a_written_time_runs_on_as_an_offset()
    {
        SetCmos(RegB, 0x82);
        _clock.Advance(TimeSpan.FromSeconds(5));
        Cmos(Seconds).Should().Be(0x59, "updates stop while SET is on");
        (Cmos(RegA) & 0x80).Should().Be(0);

        SetCmos(Seconds, 0x00);
        SetCmos(Minutes, 0x00);
        SetCmos(Hours, 0x12);
        SetCmos(Day, 0x01);
        SetCmos(Month, 0x01);
        SetCmos(Year, 0x30);
        SetCmos(Century, 0x20);
        Cmos(Hours).Should().Be(0x12, "while frozen the registers hold what the guest wrote");
        SetCmos(RegB, 0x02);

        _clock.Advance(TimeSpan.FromSeconds(90));
        Cmos(Seconds).Should().Be(0x30);
        Cmos(Minutes).Should().Be(0x01);
        Cmos(Hours).Should().Be(0x12);
        Cmos(Weekday).Should().Be(0x03, "1 January 2030 is a Tuesday, whatever the guest wrote");
        Cmos(Year).Should().Be(0x30);

        _clock.Advance(TimeSpan.FromDays(365));
        Cmos(Year).Should().Be(0x31, "the offset keeps the guest's time running with the host's");
    }

    [Fact]
    public void A_guest_can_set_the_time_in_binary_12_hour_mode()
    {
        SetCmos(RegB, 0x80 | 0x04); // SET, binary, 12-hour
        Cmos(Hours).Should().Be(6, "the frozen copy is in the format just chosen");
        SetCmos(Hours, 0x80 | 11);  // 11 PM
        SetCmos(Minutes, 59);
        SetCmos(Seconds, 58);
        SetCmos(RegB, 0x06);        // run, binary, 24-hour
        _clock.Advance(TimeSpan.FromSeconds(3));
        Cmos(Hours).Should().Be(0);
        Cmos(Minutes).Should().Be(0);
        Cmos(Seconds).Should().Be(1);
        Cmos(Day).Should().Be(27);
    }

    [Fact]
    public void Writing_a_time_register_while_running_takes_effect_at_once()
    {
        SetCmos(Minutes, 0x45);
        Cmos(Minutes).Should().Be(0x45);
        Cmos(Seconds).Should().Be(0x59);
        _clock.Advance(TimeSpan.FromSeconds(1));
        Cmos(Minutes).Should().Be(0x46);
        Cmos(Seconds).Should().Be(0x00);
    }

    [Fact]
    public void Garbage_written_to_the_time_registers_does_not_throw()
    {
        SetCmos(RegB, 0x82);
        foreach (byte register in new[] { Seconds, Minutes, Hours, Day, Month, Year, Century })
        {
            SetCmos(register, 0xFF);
        }

        SetCmos(RegB, 0x02);
        Cmos(Century).Should().BeLessThanOrEqualTo(0x99);
        SetCmos(RegB, 0x82);
        SetCmos(Day, 0x31);
        SetCmos(Month, 0x02); // 31 February rolls over into March, as mktime does
        SetCmos(Year, 0x26);
        SetCmos(Century, 0x20);
        SetCmos(RegB, 0x02);
        Cmos(Month).Should().Be(0x03);
        Cmos(Day).Should().Be(0x03);
    }

    [Fact]
    public void Update_interrupt_fires_each_second_and_register_C_clears_it()
    {
        Cmos(RegC);
        SetCmos(RegB, 0x12); // UIE, 24-hour BCD
        _irq.Asserted.Should().BeFalse();
        _clock.Advance(TimeSpan.FromSeconds(1));
        _irq.Asserted.Should().BeTrue();
        Cmos(RegC).Should().Be(0xD0, "IRQF and UF, and PF: the 1024 Hz rate sets it even with PIE off");
        _irq.Asserted.Should().BeFalse();
        Cmos(RegC).Should().Be(0x00, "reading C cleared it");

        _clock.Advance(TimeSpan.FromSeconds(1));
        _irq.RisingEdges.Should().Be(2);
    }

    [Fact]
    public void Periodic_interrupt_follows_the_rate_in_register_A()
    {
        SetCmos(RegA, 0x2F); // 2 Hz
        SetCmos(RegB, 0x42); // PIE
        _clock.Advance(TimeSpan.FromMilliseconds(499));
        _irq.Asserted.Should().BeFalse();
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        _irq.Asserted.Should().BeTrue();
        Cmos(RegC).Should().Be(0xC0, "IRQF and PF");
        _irq.Asserted.Should().BeFalse();

        _clock.Advance(TimeSpan.FromMilliseconds(500));
        _irq.Asserted.Should().BeTrue();
        _irq.RisingEdges.Should().Be(2);
    }

    [Fact]
    public void Periodic_interrupt_at_1024_Hz_fires_within_a_millisecond()
    {
        SetCmos(RegB, 0x42); // PIE at the default rate 6
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        _irq.Asserted.Should().BeTrue();
        Cmos(RegC);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        _irq.RisingEdges.Should().Be(2);
    }

    [Fact]
    public void Flags_are_kept_without_interrupts_but_the_line_stays_low()
    {
        _clock.Advance(TimeSpan.FromSeconds(2));
        _irq.RisingEdges.Should().Be(0);
        Cmos(RegC).Should().Be(0x50, "PF and UF are set, but nothing enabled means no IRQF");
    }

    [Fact]
    public void Enabling_an_interrupt_whose_flag_is_set_raises_irq_8_at_once()
    {
        _clock.Advance(TimeSpan.FromSeconds(1));
        SetCmos(RegB, 0x12);
        _irq.Asserted.Should().BeTrue();
        SetCmos(RegB, 0x02);
        _irq.Asserted.Should().BeFalse();
    }

    [Fact]
    public void Alarm_interrupt_fires_when_the_time_matches()
    {
        SetCmos(SecondsAlarm, 0x05);
        SetCmos(MinutesAlarm, 0x31);
        SetCmos(HoursAlarm, 0xC0); // any hour
        Cmos(RegC);
        SetCmos(RegB, 0x22);       // AIE
        _clock.Advance(TimeSpan.FromSeconds(5));
        _irq.Asserted.Should().BeFalse("06:31:04 is not the alarm time");
        _clock.Advance(TimeSpan.FromSeconds(1));
        _irq.Asserted.Should().BeTrue();
        Cmos(RegC).Should().Be(0xF0, "IRQF and AF, and UF and PF which are kept whatever the enables");
    }

    [Fact]
    public void Setting_SET_clears_UIE_and_stops_update_interrupts()
    {
        SetCmos(RegB, 0x92);
        Cmos(RegB).Should().Be(0x82);
        Cmos(RegC);
        _clock.Advance(TimeSpan.FromSeconds(3));
        _irq.RisingEdges.Should().Be(0);
    }

    [Fact]
    public void Reset_turns_interrupts_off_but_keeps_the_time()
    {
        SetCmos(RegB, 0x52);
        _clock.Advance(TimeSpan.FromSeconds(1));
        _irq.Asserted.Should().BeTrue();
        _rtc.Reset();
        _irq.Asserted.Should().BeFalse();
        Cmos(RegB).Should().Be(0x02);
        Cmos(Minutes).Should().Be(0x31);
    }

    [Theory]
    // below 4 GiB, above 4 GiB: 0x15 0x16 | 0x17 0x18 | 0x30 0x31 | 0x34 0x35 | 0x5B 0x5C 0x5D
    [InlineData(512ul << 20, 0ul, new byte[] { 0x80, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x1F, 0x00, 0x00, 0x00 })]
    [InlineData(3ul << 30, 2ul << 30, new byte[] { 0x80, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0xBF, 0x00, 0x80, 0x00 })]
    [InlineData(8ul << 20, 0ul, new byte[] { 0x80, 0x02, 0x00, 0x1C, 0x00, 0x1C, 0x00, 0x00, 0x00, 0x00, 0x00 })]
    [InlineData(0ul, 0ul, new byte[] { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 })]
    public void Memory_size_fields_are_filled_as_QEMU_does(ulong below4GiB, ulong above4GiB, byte[] expected)
    {
        using var rtc = new CmosRtc(_clock, _irq, below4GiB, above4GiB);
        byte[] fields = [0x15, 0x16, 0x17, 0x18, 0x30, 0x31, 0x34, 0x35, 0x5B, 0x5C, 0x5D];
        byte[] read = new byte[fields.Length];
        for (int i = 0; i < fields.Length; i++)
        {
            rtc.Write(Index, [fields[i]]);
            rtc.Read(Data, read.AsSpan(i, 1));
        }

        read.Should().Equal(expected);
    }

    [Fact]
    public void The_BIOS_finds_the_equipment_boot_order_and_vCPUs_QEMU_sets()
    {
        using var rtc = new CmosRtc(_clock, _irq, 128ul << 20, 0, cpuCount: 4);
        byte[] fields = [0x10, 0x14, 0x3D, 0x38, 0x5F];
        byte[] read = new byte[fields.Length];
        for (int i = 0; i < fields.Length; i++)
        {
            rtc.Write(Index, [fields[i]]);
            rtc.Read(Data, read.AsSpan(i, 1));
        }

        // No floppy; FPU and PS/2 mouse; boot hard disk, floppy, CD-ROM (QEMU's "cad"); 4 vCPUs as 3.
        read.Should().Equal(0x00, 0x06, 0x12, 0x30, 0x03);
    }

    [Fact]
    public void The_NMI_mask_bit_is_kept_apart_from_the_index()
    {
        Out(Index, 0x80 | RegD);
        _rtc.NmiDisabled.Should().BeTrue();
        In(Data).Should().Be(0x80, "index 0x0D, register D");

        Out(Index, 0x80 | 0x40);
        Out(Data, 0x5A);
        Out(Index, 0x40);
        _rtc.NmiDisabled.Should().BeFalse();
        In(Data).Should().Be(0x5A);
        In(Index).Should().Be(0xFF, "the index port is write-only");
    }

    [Fact]
    public void CMOS_bytes_are_plain_storage_and_C_and_D_are_read_only()
    {
        for (byte i = 0x0E; i < 0x80; i++)
        {
            if (i != Century)
            {
                SetCmos(i, (byte)(i ^ 0xA5));
            }
        }

        for (byte i = 0x0E; i < 0x80; i++)
        {
            if (i != Century)
            {
                Cmos(i).Should().Be((byte)(i ^ 0xA5));
            }
        }

        SetCmos(RegD, 0x00);
        Cmos(RegD).Should().Be(0x80);
        SetCmos(RegC, 0xFF);
        Cmos(RegC).Should().Be(0x00);
    }

    [Theory]
    [InlineData(2ul, 1)]
    [InlineData(0ul, 2)]
    [InlineData(1ul, 4)]
    public void Bad_accesses_are_counted_and_read_as_zero(ulong offset, int width)
    {
        byte[] data = Enumerable.Repeat((byte)0xFF, width).ToArray();
        _rtc.Read(offset, data);
        data.Should().OnlyContain(b => b == 0);
        _rtc.Write(offset, data);
        _rtc.BadAccesses.Should().Be(2);
        Cmos(Seconds).Should().Be(0x59);
    }

    [Fact]
    public void After_dispose_no_timer_raises_the_line()
    {
        SetCmos(RegB, 0x52);
        _rtc.Dispose();
        _clock.Advance(TimeSpan.FromSeconds(2));
        _irq.RisingEdges.Should().Be(0);
    }
}
