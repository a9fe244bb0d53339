using System.Text;
using Platform.Devices.Legacy;
using Platform.Devices.Tests.Fakes;

namespace Platform.Devices.Tests.Legacy;

// Drives the UART through its registers as a guest driver (Linux's 8250, our test guests) would.
public sealed class Uart16550Tests
{
    private const ulong Thr = 0, Rbr = 0, Ier = 1, Iir = 2, Fcr = 2, Lcr = 3, Mcr = 4, Lsr = 5, Msr = 6, Scr = 7;

    private readonly RecordingInterruptLine _irq = new();
    private readonly MemoryStream _output = new();
    private readonly Uart16550 _uart;

    public Uart16550Tests() => _uart = new Uart16550(_irq, _output);

    private byte In(ulong offset)
    {
        Span<byte> b = stackalloc byte[1];
        _uart.Read(offset, b);
        return b[0];
    }

    private void Out(ulong offset, byte value) => _uart.Write(offset, [value]);

    [Fact]
    public void Bytes_written_to_THR_reach_the_output()
    {
        foreach (byte b in "hello\n"u8)
        {
            Out(Thr, b);
        }

        Encoding.ASCII.GetString(_output.ToArray()).Should().Be("hello\n");
        _uart.BytesTransmitted.Should().Be(6);
    }

    [Fact]
    public void Line_status_reports_transmitter_empty_and_data_ready()
    {
        In(Lsr).Should().Be(0x60, "THR and the shift register are always empty");
        _uart.Receive("x"u8);
        In(Lsr).Should().Be(0x61);
        In(Rbr).Should().Be((byte)'x');
        In(Lsr).Should().Be(0x60);
    }

    [Fact]
    public void TryReceive_keeps_the_queue_short_and_calls_back_once_the_guest_has_read_half_of_it()
    {
        int calls = 0;
        _uart.InputRoomAvailable = () => calls++;
        for (int i = 0; i < 16; i++)
        {
            _uart.TryReceive((byte)('a' + i), queueLimit: 16).Should().BeTrue();
        }

        _uart.TryReceive((byte)'!', queueLimit: 16).Should().BeFalse("16 bytes wait: the host holds the rest");
        for (int i = 0; i < 7; i++)
        {
            In(Rbr);
        }

        calls.Should().Be(0);
        In(Rbr).Should().Be((byte)'h');
        calls.Should().Be(1, "8 bytes are left, half the limit");
        _uart.TryReceive((byte)'!', queueLimit: 16).Should().BeTrue();
        _uart.Receive("more"u8).Should().Be(4, "the host's own queue (stdin) is not limited by it");
    }

    [Fact]
    public void Divisor_latch_is_reached_through_DLAB_and_does_not_transmit()
    {
        Out(Lcr, 0x83);
        Out(Thr, 0x01);
        Out(Ier, 0x00);
        In(Thr).Should().Be(0x01);
        Out(Lcr, 0x03);
        _output.Length.Should().Be(0);
        In(Lcr).Should().Be(0x03);
    }

    [Fact]
    public void Receive_interrupt_rises_with_data_and_falls_when_the_fifo_is_drained()
    {
        Out(Ier, 0x01);
        _irq.Asserted.Should().BeFalse();
        In(Iir).Should().Be(0x01, "nothing is pending");

        _uart.Receive("ab"u8);
        _irq.Asserted.Should().BeTrue();
        In(Iir).Should().Be(0x04);
        In(Rbr).Should().Be((byte)'a');
        _irq.Asserted.Should().BeTrue();
        In(Rbr).Should().Be((byte)'b');
        _irq.Asserted.Should().BeFalse();
        In(Iir).Should().Be(0x01);
    }

    [Fact]
    public void With_the_fifo_on_data_below_the_trigger_level_reports_a_character_timeout()
    {
        Out(Fcr, 0x87); // enable, clear both FIFOs, trigger at 8 bytes
        Out(Ier, 0x01);
        _uart.Receive("abc"u8);
        In(Iir).Should().Be(0xCC);
        _uart.Receive("defghi"u8);
        In(Iir).Should().Be(0xC4);
    }

    [Fact]
    public void THR_empty_interrupt_fires_when_enabled_and_is_acknowledged_by_reading_IIR()
    {
        Out(Ier, 0x02);
        _irq.Asserted.Should().BeTrue("THR is empty the moment the interrupt is enabled");
        In(Iir).Should().Be(0x02);
        _irq.Asserted.Should().BeFalse("reading IIR acknowledges THR-empty");
        In(Iir).Should().Be(0x01);

        Out(Thr, (byte)'z');
        _irq.Asserted.Should().BeTrue("each transmitted byte empties THR again");
        Out(Ier, 0x00);
        _irq.Asserted.Should().BeFalse();
    }

    [Fact]
    public void Received_data_has_priority_over_THR_empty()
    {
        Out(Ier, 0x03);
        _uart.Receive("q"u8);
        In(Iir).Should().Be(0x04);
        In(Rbr);
        In(Iir).Should().Be(0x02);
    }

    [Fact]
    public void Loopback_sends_transmitted_bytes_back_and_wires_modem_lines_to_MCR()
    {
        Out(Mcr, 0x10 | 0x0A); // loopback, RTS, OUT2 — what Linux's autoconfig writes
        (In(Msr) & 0xF0).Should().Be(0x90, "RTS loops to CTS and OUT2 to DCD");
        Out(Thr, 0x55);
        _output.Length.Should().Be(0);
        In(Lsr).Should().Be(0x61);
        In(Rbr).Should().Be(0x55);
        Out(Mcr, 0x00);
        (In(Msr) & 0xF0).Should().Be(0xB0, "outside loopback carrier, DSR and CTS are up");
    }

    [Fact]
    public void Scratch_register_keeps_its_value()
    {
        Out(Scr, 0xA5);
        In(Scr).Should().Be(0xA5);
    }

    [Fact]
    public void Host_queue_applies_back_pressure_instead_of_dropping()
    {
        byte[] flood = new byte[Uart16550.HostQueueLimit + 100];
        _uart.Receive(flood).Should().Be(Uart16550.HostQueueLimit);
        _uart.Receive("x"u8).Should().Be(0);
        In(Rbr);
        _uart.Receive("x"u8).Should().Be(1);
    }

    [Theory]
    [InlineData(8ul, 1)]
    [InlineData(0ul, 2)]
    [InlineData(5ul, 4)]
    public void Bad_accesses_are_counted_and_read_as_zero(ulong offset, int width)
    {
        byte[] data = Enumerable.Repeat((byte)0xFF, width).ToArray();
        _uart.Read(offset, data);
        data.Should().OnlyContain(b => b == 0);
        _uart.Write(offset, data);
        _uart.BadAccesses.Should().Be(2);
        _output.Length.Should().Be(0);
    }

    [Fact]
    public void Reading_an_empty_receive_buffer_returns_zero_and_does_not_count()
    {
        In(Rbr).Should().Be(0);
        _uart.BytesReceived.Should().Be(0);
    }
}
