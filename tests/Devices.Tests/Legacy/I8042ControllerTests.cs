using Platform.Devices.Legacy;
using Platform.Devices.Tests.Fakes;

namespace Platform.Devices.Tests.Legacy;

// Drives the 8042 through ports 0x60/0x64 (offsets 0 and 4) as Linux's i8042, atkbd and psmouse drivers do.
public sealed class I8042ControllerTests
{
    private const ulong Data = 0, Status = 4, Command = 4;
    private const byte OutputFull = 0x01, SystemFlag = 0x04, LastWasCommand = 0x08, NotLocked = 0x10, AuxFull = 0x20;
    private const byte NoTranslation = 0x07; // both interrupts, system flag; translation off

    private readonly RecordingInterruptLine _keyboardIrq = new();
    private readonly RecordingInterruptLine _mouseIrq = new();
    private readonly I8042Controller _kbc;
    private int _resets;

    public I8042ControllerTests() => _kbc = new I8042Controller(_keyboardIrq, _mouseIrq, () => _resets++);

    private byte In(ulong offset)
    {
        Span<byte> b = stackalloc byte[1];
        _kbc.Read(offset, b);
        return b[0];
    }

    private void Out(ulong offset, byte value) => _kbc.Write(offset, [value]);

    /// <summary>Reads port 0x60 for as long as the status register says a byte is waiting.</summary>
    private byte[] Drain()
    {
        var bytes = new List<byte>();
        while ((In(Status) & OutputFull) != 0)
        {
            bytes.Add(In(Data));
        }

        return [.. bytes];
    }

    private void WriteCommandByte(byte value)
    {
        Out(Command, 0x60);
        Out(Data, value);
    }

    [Fact]
    public void Status_after_power_on_has_the_system_flag_and_an_open_key_lock()
    {
        In(Status).Should().Be(SystemFlag | NotLocked);
        Out(Command, 0xAD);
        In(Status).Should().Be(SystemFlag | NotLocked | LastWasCommand, "the last write went to port 0x64");
        Out(Command, 0xAE);
        Out(Data, 0xF4);
        (In(Status) & LastWasCommand).Should().Be(0, "the last write went to port 0x60");
        In(Data).Should().Be(0xFA);
    }

    [Theory]
    [InlineData(0xAA, 0x55)] // controller self test
    [InlineData(0xAB, 0x00)] // keyboard interface test
    [InlineData(0xA9, 0x00)] // aux interface test
    [InlineData(0x20, I8042Controller.DefaultCommandByte)]
    [InlineData(0xC0, 0x80)] // input port: keyboard not inhibited
    [InlineData(0xD0, 0xCF)] // output port: CPU running, A20 on
    public void Controller_commands_reply_through_the_data_port(byte command, byte reply)
    {
        Out(Command, command);
        In(Status).Should().Be(SystemFlag | NotLocked | LastWasCommand | OutputFull);
        In(Data).Should().Be(reply);
        (In(Status) & OutputFull).Should().Be(0);
        _keyboardIrq.RisingEdges.Should().Be(1, "a controller reply is a keyboard-side byte and IRQ 1 is enabled");
        _keyboardIrq.Asserted.Should().BeFalse();
    }

    [Fact]
    public void Command_byte_is_written_with_0x60_and_read_with_0x20()
    {
        I8042Controller.DefaultCommandByte.Should().Be(0x47, "interrupts, system flag and translation on");

        WriteCommandByte(0x65);
        Out(Command, 0x20);
        In(Data).Should().Be(0x65);
        _kbc.CommandByte.Should().Be(0x65);
        (In(Status) & SystemFlag).Should().Be(SystemFlag);

        WriteCommandByte(0x61);
        (In(Status) & SystemFlag).Should().Be(0, "the status system flag follows command-byte bit 2");
    }

    [Theory]
    [InlineData(0xAD, 0x10, true)]
    [InlineData(0xA7, 0x20, true)]
    [InlineData(0xAE, 0x10, false)]
    [InlineData(0xA8, 0x20, false)]
    public void Enable_and_disable_commands_change_the_command_byte(byte command, byte bit, bool set)
    {
        WriteCommandByte(set ? (byte)0x47 : (byte)0x77);
        Out(Command, command);
        (_kbc.CommandByte & bit).Should().Be(set ? bit : 0);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF }, new byte[] { 0xFA, 0xAA })]             // reset: ACK, self test passed
    [InlineData(new byte[] { 0xF2 }, new byte[] { 0xFA, 0xAB, 0x41 })]       // identify, as translated
    [InlineData(new byte[] { 0xEE }, new byte[] { 0xEE })]                   // echo, no ACK
    [InlineData(new byte[] { 0xF3, 0x2B }, new byte[] { 0xFA, 0xFA })]       // typematic rate + parameter
    [InlineData(new byte[] { 0xF4 }, new byte[] { 0xFA })]
    [InlineData(new byte[] { 0xF5 }, new byte[] { 0xFA })]
    [InlineData(new byte[] { 0xF6 }, new byte[] { 0xFA })]
    [InlineData(new byte[] { 0xF0, 0x00 }, new byte[] { 0xFA, 0xFA, 0x41 })] // get set: 2, translated to 41
    [InlineData(new byte[] { 0xF0, 0x07 }, new byte[] { 0xFA, 0xFE })]       // no set 7
    [InlineData(new byte[] { 0x01 }, new byte[] { 0xFE })]                   // unknown: resend
    public void Keyboard_commands_are_answered_as_a_real_keyboard_does(byte[] written, byte[] replies)
    {
        foreach (byte b in written)
        {
            Out(Data, b);
        }

        Drain().Should().Equal(replies);
        _keyboardIrq.RisingEdges.Should().Be(replies.Length, "each byte is its own IRQ 1 edge");
    }

    [Fact]
    public void Without_translation_identify_and_the_scancode_set_read_raw()
    {
        WriteCommandByte(NoTranslation);
        Out(Data, 0xF2);
        Drain().Should().Equal(0xFA, 0xAB, 0x83);
        Out(Data, 0xF0);
        Out(Data, 0x01);
        Out(Data, 0xF0);
        Out(Data, 0x00);
        Drain().Should().Equal(0xFA, 0xFA, 0xFA, 0xFA, 0x01);
        _kbc.ScancodeSet.Should().Be(1);
    }

    [Fact]
    public void Set_LEDs_takes_a_parameter_byte()
    {
        Out(Data, 0xED);
        Drain().Should().Equal(0xFA);
        Out(Data, 0x05); // Scroll Lock and Caps Lock
        Drain().Should().Equal(0xFA);
        _kbc.Leds.Should().Be(0x05);

        Out(Data, 0xFF);
        Drain().Should().Equal(0xFA, 0xAA);
        _kbc.Leds.Should().Be(0, "a keyboard reset turns the LEDs off");
    }

    [Theory]
    [InlineData(0xFE, 1)] // pulse line 0: how Linux reboots
    [InlineData(0xF0, 1)] // pulse all four lines
    [InlineData(0xFC, 1)]
    [InlineData(0xFF, 0)] // pulse nothing
    [InlineData(0xFD, 0)]
    public void Pulsing_output_line_0_requests_a_machine_reset(byte command, int resets)
    {
        Out(Command, command);
        _resets.Should().Be(resets);
        _kbc.ResetRequests.Should().Be(resets);
        _kbc.BadAccesses.Should().Be(0);
    }

    [Theory]
    [InlineData(0x02, 1)] // A20 on, reset line low
    [InlineData(0xDE, 1)]
    [InlineData(0x03, 0)]
    [InlineData(0xCF, 0)]
    public void Writing_the_output_port_with_bit_0_clear_requests_a_reset(byte value, int resets)
    {
        Out(Command, 0xD1);
        Out(Data, value);
        _resets.Should().Be(resets);
        Drain().Should().BeEmpty("the byte went to the output port, not to the keyboard");

        Out(Command, 0xD0);
        Drain().Should().Equal(new[] { (byte)(value & 0xCF) }, "bits 4 and 5 show the buffer-full lines, empty now");
    }

    [Fact]
    public void The_reset_callback_runs_outside_the_device_lock()
    {
        // The engine's reset path may touch the device from another thread; that must not wait on the vCPU's lock.
        I8042Controller? kbc = null;
        bool otherThreadGotIn = false;
        kbc = new I8042Controller(_keyboardIrq, _mouseIrq, () =>
        {
            var other = new Thread(() => kbc!.Reset());
            other.Start();
            otherThreadGotIn = other.Join(TimeSpan.FromSeconds(10));
        });

        kbc.Write(Command, [0xFE]);
        otherThreadGotIn.Should().BeTrue();
        kbc.ResetRequests.Should().Be(1);
    }

    [Fact]
    public void Keyboard_irq_rises_per_byte_and_falls_when_the_byte_is_read()
    {
        _kbc.KeyEvent(0xE01D, down: true); // Right Ctrl: E0 1D
        _keyboardIrq.Asserted.Should().BeTrue();
        In(Status).Should().Be(SystemFlag | NotLocked | OutputFull);

        In(Data).Should().Be(0xE0);
        _keyboardIrq.Asserted.Should().BeTrue("the second byte loaded at once");
        _keyboardIrq.RisingEdges.Should().Be(2, "the line dropped between the two bytes");

        In(Data).Should().Be(0x1D);
        _keyboardIrq.Asserted.Should().BeFalse();
        In(Data).Should().Be(0x1D, "an empty buffer reads back its last byte");
        _keyboardIrq.RisingEdges.Should().Be(2);
        _mouseIrq.RisingEdges.Should().Be(0);
    }

    [Fact]
    public void With_interrupts_off_in_the_command_byte_the_line_stays_low()
    {
        WriteCommandByte(0x44); // translation and system flag only
        _kbc.KeyEvent(0x1E, down: true);
        _keyboardIrq.Asserted.Should().BeFalse();
        _keyboardIrq.RisingEdges.Should().Be(0);
        Drain().Should().Equal(new byte[] { 0x1E }, "a polling guest still reads the byte");

        WriteCommandByte(0x47);
        _kbc.KeyEvent(0x1E, down: false);
        _keyboardIrq.Asserted.Should().BeTrue();
    }

    [Theory]
    [InlineData(0x1E, new byte[] { 0x1E }, new byte[] { 0x9E })]                    // A
    [InlineData(0x01, new byte[] { 0x01 }, new byte[] { 0x81 })]                    // Esc
    [InlineData(0x41, new byte[] { 0x41 }, new byte[] { 0xC1 })]                    // F7 (set 2's 83)
    [InlineData(0xE01D, new byte[] { 0xE0, 0x1D }, new byte[] { 0xE0, 0x9D })]      // Right Ctrl, noVNC form
    [InlineData(0xE048, new byte[] { 0xE0, 0x48 }, new byte[] { 0xE0, 0xC8 })]      // Up
    [InlineData(0xC8, new byte[] { 0xE0, 0x48 }, new byte[] { 0xE0, 0xC8 })]        // Up, RFB wire form
    [InlineData(0x148, new byte[] { 0xE0, 0x48 }, new byte[] { 0xE0, 0xC8 })]       // Up, SPICE form
    [InlineData(0xE035, new byte[] { 0xE0, 0x35 }, new byte[] { 0xE0, 0xB5 })]      // keypad /
    [InlineData(0xE037, new byte[] { 0xE0, 0x2A, 0xE0, 0x37 }, new byte[] { 0xE0, 0xB7, 0xE0, 0xAA })] // Print Screen
    [InlineData(0xE046, new byte[] { 0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5 }, new byte[0])]             // Pause
    public void Translated_keys_reach_the_guest_in_set_1(int key, byte[] make, byte[] release)
    {
        _kbc.KeyEvent(key, down: true);
        Drain().Should().Equal(make);
        _kbc.KeyEvent(key, down: false);
        Drain().Should().Equal(release);
    }

    [Theory]
    [InlineData(0x1E, new byte[] { 0x1C }, new byte[] { 0xF0, 0x1C })]                           // A
    [InlineData(0x2A, new byte[] { 0x12 }, new byte[] { 0xF0, 0x12 })]                           // Left Shift
    [InlineData(0x41, new byte[] { 0x83 }, new byte[] { 0xF0, 0x83 })]                           // F7
    [InlineData(0xE048, new byte[] { 0xE0, 0x75 }, new byte[] { 0xE0, 0xF0, 0x75 })]             // Up
    [InlineData(0xE01D, new byte[] { 0xE0, 0x14 }, new byte[] { 0xE0, 0xF0, 0x14 })]             // Right Ctrl
    [InlineData(0xE05B, new byte[] { 0xE0, 0x1F }, new byte[] { 0xE0, 0xF0, 0x1F })]             // Left Windows
    [InlineData(0xE037, new byte[] { 0xE0, 0x12, 0xE0, 0x7C }, new byte[] { 0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12 })]
    [InlineData(0xE046, new byte[] { 0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77 }, new byte[0])]
    public void Untranslated_keys_reach_the_guest_in_set_2(int key, byte[] make, byte[] release)
    {
        WriteCommandByte(NoTranslation);
        _kbc.KeyEvent(key, down: true);
        Drain().Should().Equal(make);
        _kbc.KeyEvent(key, down: false);
        Drain().Should().Equal(release);
    }

    [Fact]
    public void Untranslated_set_1_sends_xt_codes_unchanged()
    {
        WriteCommandByte(NoTranslation);
        Out(Data, 0xF0);
        Out(Data, 0x01);
        Drain().Should().Equal(0xFA, 0xFA);
        _kbc.KeyEvent(0xE048, down: true);
        _kbc.KeyEvent(0xE048, down: false);
        Drain().Should().Equal(0xE0, 0x48, 0xE0, 0xC8);
    }

    [Fact]
    public void Print_screen_and_pause_follow_the_modifiers_held()
    {
        _kbc.KeyEvent(0x1D, down: true);        // Left Ctrl
        _kbc.KeyEvent(0xE046, down: true);      // Ctrl+Pause is Break
        _kbc.KeyEvent(0xE037, down: true);      // Ctrl+Print Screen has no fake shift
        Drain().Should().Equal(0x1D, 0xE0, 0x46, 0xE0, 0xC6, 0xE0, 0x37);
        _kbc.KeyEvent(0xE037, down: false);
        _kbc.KeyEvent(0x1D, down: false);
        Drain().Should().Equal(0xE0, 0xB7, 0x9D);

        _kbc.KeyEvent(0xE038, down: true);      // Right Alt
        _kbc.KeyEvent(0xE037, down: true);      // Alt+Print Screen is SysRq
        _kbc.KeyEvent(0xE037, down: false);
        Drain().Should().Equal(0xE0, 0x38, 0x54, 0xD4);
    }

    [Fact]
    public void Keys_are_ignored_while_scanning_is_disabled()
    {
        Out(Data, 0xF5);
        Drain().Should().Equal(0xFA);
        _kbc.KeyEvent(0x1E, down: true);
        Drain().Should().BeEmpty();

        Out(Data, 0xF4);
        Drain().Should().Equal(0xFA);
        _kbc.KeyEvent(0x1E, down: true);
        Drain().Should().Equal(0x1E);
    }

    [Fact]
    public void Keys_wait_while_the_keyboard_interface_is_disabled()
    {
        Out(Command, 0xAD);
        _kbc.KeyEvent(0x1E, down: true);
        (In(Status) & OutputFull).Should().Be(0);
        _keyboardIrq.Asserted.Should().BeFalse();

        Out(Command, 0xAE);
        _keyboardIrq.Asserted.Should().BeTrue();
        Drain().Should().Equal(0x1E);
    }

    [Fact]
    public void A_full_queue_drops_whole_sequences_and_counts_them()
    {
        // One byte sits in the output buffer and sixteen wait behind it.
        for (int i = 0; i < 17; i++)
        {
            _kbc.KeyEvent(0x1E, down: true);
        }

        _kbc.DroppedBytes.Should().Be(0);
        _kbc.KeyEvent(0xE048, down: true); // two bytes, no room: both dropped, not half
        _kbc.KeyEvent(0x1E, down: true);
        _kbc.DroppedBytes.Should().Be(3);

        Drain().Should().HaveCount(17).And.OnlyContain(b => b == 0x1E);
        _kbc.KeyEvent(0xE048, down: true);
        Drain().Should().Equal(0xE0, 0x48);
    }

    [Fact]
    public void TryKeyEvent_refuses_what_does_not_fit_without_dropping_and_calls_back_when_half_the_buffer_is_read()
    {
        int calls = 0;
        _kbc.KeyboardRoomAvailable = () => calls++;
        for (int i = 0; i < 17; i++)
        {
            _kbc.TryKeyEvent(0x1E, down: true).Should().BeTrue();
        }

        _kbc.TryKeyEvent(0x2A, down: true).Should().BeFalse("the buffer is full: the host holds the key");
        _kbc.TryKeyEvent(0xE048, down: false).Should().BeFalse();
        _kbc.DroppedBytes.Should().Be(0, "nothing was dropped");

        for (int i = 0; i < 7; i++)
        {
            In(Data);
        }

        calls.Should().Be(0, "9 of 16 bytes still wait");
        In(Data);
        calls.Should().Be(1, "half the buffer is free");
        In(Data);
        calls.Should().Be(1, "one call per refusal");

        _kbc.TryKeyEvent(0x2A, down: true).Should().BeTrue();
        Drain().Should().Equal([.. Enumerable.Repeat<byte>(0x1E, 8), 0x2A]);
        _kbc.TryKeyEvent(0x1E, down: true).Should().BeTrue();
        Drain().Should().Equal(new byte[] { 0x1E }, "a refused Shift left no modifier state behind, nor did it change the byte sent");
    }

    [Fact]
    public void TryKeyEvent_takes_and_forgets_keys_while_the_guest_has_scanning_off()
    {
        Out(Data, 0xF5);   // disable scanning
        Drain();
        for (int i = 0; i < 40; i++)
        {
            _kbc.TryKeyEvent(0x1E, down: true).Should().BeTrue("nobody listens: a real keyboard drops them too");
        }

        Drain().Should().BeEmpty();
    }

    [Fact]
    public void Command_replies_go_ahead_of_waiting_key_bytes()
    {
        Out(Command, 0xAD);
        _kbc.KeyEvent(0x1E, down: true);
        Out(Data, 0xEE); // writing to the keyboard re-enables its interface
        Drain().Should().Equal(0xEE, 0x1E);
    }

    [Fact]
    public void The_mouse_answers_on_the_aux_side_with_irq_12()
    {
        Out(Command, 0xD4);
        Out(Data, 0xFF);
        In(Status).Should().Be(SystemFlag | NotLocked | AuxFull | OutputFull);
        _mouseIrq.Asserted.Should().BeTrue();
        Drain().Should().Equal(0xFA, 0xAA, 0x00);
        _mouseIrq.RisingEdges.Should().Be(3);
        _mouseIrq.Asserted.Should().BeFalse();

        Out(Command, 0xD4);
        Out(Data, 0xF2);
        Drain().Should().Equal(0xFA, 0x00);
        Out(Command, 0xD4);
        Out(Data, 0xE9);
        Drain().Should().Equal(0xFA, 0x00, 0x02, 100);
        _keyboardIrq.RisingEdges.Should().Be(0);
    }

    [Fact]
    public void Writing_the_aux_output_buffer_loops_back_as_mouse_data()
    {
        // Linux's i8042_check_aux does this to find the aux port.
        Out(Command, 0xD3);
        Out(Data, 0x5A);
        (In(Status) & (AuxFull | OutputFull)).Should().Be(AuxFull | OutputFull);
        _mouseIrq.Asserted.Should().BeTrue();
        In(Data).Should().Be(0x5A);

        Out(Command, 0xD2);
        Out(Data, 0xA5);
        (In(Status) & (AuxFull | OutputFull)).Should().Be(OutputFull);
        _keyboardIrq.Asserted.Should().BeTrue();
        In(Data).Should().Be(0xA5);
    }

    [Theory]
    [InlineData(1ul, 1)]
    [InlineData(2ul, 1)]
    [InlineData(3ul, 1)]
    [InlineData(5ul, 1)]
    [InlineData(0ul, 2)]
    [InlineData(4ul, 4)]
    public void Bad_accesses_are_counted_and_read_as_zero(ulong offset, int width)
    {
        _kbc.KeyEvent(0x1E, down: true);
        byte[] data = Enumerable.Repeat((byte)0xFF, width).ToArray();
        _kbc.Read(offset, data);
        data.Should().OnlyContain(b => b == 0);
        _kbc.Write(offset, Enumerable.Repeat((byte)0xFE, width).ToArray()); // a reset pulse, were it accepted
        _kbc.BadAccesses.Should().Be(2);
        _resets.Should().Be(0);
        Drain().Should().Equal(new byte[] { 0x1E }, "the waiting byte was not consumed");
    }

    [Fact]
    public void Reset_restores_the_firmware_state()
    {
        WriteCommandByte(0x00);
        Out(Data, 0xF5);
        _kbc.KeyEvent(0x1E, down: true);
        _kbc.Reset();
        _kbc.CommandByte.Should().Be(I8042Controller.DefaultCommandByte);
        Drain().Should().BeEmpty();
        _kbc.KeyEvent(0x1E, down: true);
        Drain().Should().Equal(0x1E);
    }

    [Fact]
    public void The_translation_table_is_the_inverse_of_the_set_2_table()
    {
        var set2Codes = new HashSet<byte>();
        for (int set1 = 1; set1 < 0x80; set1++)
        {
            byte set2 = I8042Controller.Set1ToSet2[set1];
            set2Codes.Add(set2).Should().BeTrue($"set-1 {set1:X2} needs its own set-2 code");
            I8042Controller.Set2ToSet1[set2].Should().Be((byte)set1);
        }

        for (int set2 = 0; set2 < 0x80; set2++)
        {
            I8042Controller.Set2ToSet1[set2].Should().NotBe(0, $"the 8042 translates every byte (set-2 {set2:X2})");
        }
    }
}
