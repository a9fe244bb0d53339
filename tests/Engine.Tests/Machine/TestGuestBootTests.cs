using System.Globalization;
using System.Text;
using Platform.Engine.Host;
using Platform.Engine.Machine;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Machine;

// Real guests under /dev/kvm: the test-guest kit's ELF kernels, entered through PVH, reporting on COM1.
public sealed class TestGuestBootTests
{
    private static readonly TimeSpan GuestTimeout = TimeSpan.FromSeconds(60);

    private static MachineInstance Boot(string guest, SerialCapture serial, string commandLine = "", int cpus = 1)
    {
        var machine = MachineInstance.Create(new MachineConfig
        {
            KernelPath = TestGuests.Path(guest),
            CommandLine = commandLine,
            MemoryBytes = 64ul << 20,
            CpuCount = cpus,
        }, serial);
        machine.Start();
        return machine;
    }

    [Fact]
    public async Task Hello_guest_boots_through_PVH_and_sees_our_memory_map()
    {
        var serial = new SerialCapture();
        using var machine = Boot("hello", serial, "hello=1 from=platform");

        string output = await serial.WaitForAsync("PLATFORM-TEST hello PASS", GuestTimeout);
        output.Should().Contain("PLATFORM-TEST hello START").And.Contain("cmdline: hello=1 from=platform");
        output.Should().Contain("memmap: 0x0000000000100000-0x0000000003ffffff type 1");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public async Task Every_vcpu_checks_in_after_INIT_SIPI(int cpus)
    {
        var serial = new SerialCapture();
        using var machine = Boot("smp", serial, cpus: cpus);

        string output = await serial.WaitForAsync("PLATFORM-TEST smp PASS", GuestTimeout);
        output.Should().Contain($"smp: {cpus} CPUs");
        for (int apic = 1; apic < cpus; apic++)
        {
            output.Should().Contain($"CPU {apic} checked in");
        }
    }

    [Theory]
    [InlineData("irq=ioapic")]
    [InlineData("irq=pic")]
    public async Task PIT_interrupts_arrive_through_the_IOAPIC_and_the_8259(string route)
    {
        var serial = new SerialCapture();
        using var machine = Boot("timer", serial, route);

        string output = await serial.WaitForAsync("PLATFORM-TEST timer ", GuestTimeout);
        await serial.WaitForAsync("\n", TimeSpan.FromSeconds(5));
        output = await serial.WaitForAsync("PLATFORM-TEST timer PASS", TimeSpan.FromSeconds(20));
        output.Should().Contain("20 ticks");
    }

    [Theory]
    [InlineData("irq=ioapic")]
    [InlineData("irq=pic")]
    public async Task Serial_receive_is_interrupt_driven(string route)
    {
        var serial = new SerialCapture();
        using var machine = Boot("echo", serial, route);
        await serial.WaitForAsync("READY", GuestTimeout);

        machine.Serial.Receive("abc"u8).Should().Be(3);
        await serial.WaitForAsync("ABC", TimeSpan.FromSeconds(20));
        machine.Serial.Receive("Hello, World"u8);
        await serial.WaitForAsync("HELLO, WORLD", TimeSpan.FromSeconds(20));
        machine.Serial.Receive("q"u8);
        string output = await serial.WaitForAsync("PLATFORM-TEST echo PASS", TimeSpan.FromSeconds(20));
        output.Should().Contain("15 bytes echoed");
    }

    [Fact]
    public async Task RTC_reads_the_host_clock()
    {
        var serial = new SerialCapture();
        var before = DateTime.UtcNow;
        using var machine = Boot("rtc", serial);

        string output = await serial.WaitForAsync("PLATFORM-TEST rtc PASS", GuestTimeout);
        string line = output.Split('\n').Single(l => l.StartsWith("RTC ", StringComparison.Ordinal)).Trim();
        var guestTime = DateTime.ParseExact(line[4..], "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        guestTime.Should().BeOnOrAfter(before.AddSeconds(-2)).And.BeOnOrBefore(DateTime.UtcNow.AddSeconds(2));
    }

    [Fact]
    public async Task Exceptions_and_a_self_IPI_reach_the_guest_handlers()
    {
        var serial = new SerialCapture();
        using var machine = Boot("trap", serial);
        await serial.WaitForAsync("PLATFORM-TEST trap PASS", GuestTimeout);
    }

    [Fact]
    public async Task The_i8042_reset_pulse_ends_the_machine_with_a_reset()
    {
        var serial = new SerialCapture();
        using var machine = Boot("reset", serial);

        var exit = await machine.Exited.WaitAsync(GuestTimeout, TestContext.Current.CancellationToken);
        exit.Reason.Should().Be(MachineExitReason.Reset);
        exit.Detail.Should().Contain("i8042");
        serial.Text.Should().Contain("PLATFORM-TEST reset PASS").And.NotContain("reset FAIL");
        machine.Keyboard.ResetRequests.Should().Be(1);
    }

    [Fact]
    public async Task Port_and_MMIO_exit_loops_reach_the_buses()
    {
        var serial = new SerialCapture();
        using (var machine = Boot("ioloop", serial, "n=2000 port=0x510"))
        {
            await serial.WaitForAsync("PLATFORM-TEST ioloop PASS", GuestTimeout);
            machine.Ports.UnclaimedWrites.Should().BeGreaterThanOrEqualTo(2000);
        }

        var mmioSerial = new SerialCapture();
        using (var machine = Boot("mmioloop", mmioSerial, "n=2000"))
        {
            await mmioSerial.WaitForAsync("PLATFORM-TEST mmioloop PASS", GuestTimeout);
            machine.Mmio.UnclaimedWrites.Should().Be(2000);
        }
    }

    [Fact]
    public async Task Pause_stops_the_guest_and_resume_continues_it()
    {
        var serial = new SerialCapture();
        using var machine = Boot("echo", serial);
        await serial.WaitForAsync("READY", GuestTimeout);

        machine.Pause(TimeSpan.FromSeconds(10)).Should().BeTrue();
        machine.IsPaused.Should().BeTrue();
        machine.Serial.Receive("xy"u8);
        await Task.Delay(500, TestContext.Current.CancellationToken);
        serial.Text.Should().NotContain("XY", "a paused guest runs no code");

        machine.Resume();
        await serial.WaitForAsync("XY", TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task Restart_policy_boots_the_guest_again_after_a_reset()
    {
        var serial = new SerialCapture();
        using var host = new VmmHost(new MachineConfig
        {
            KernelPath = TestGuests.Path("reset"),
            MemoryBytes = 64ul << 20,
            OnReboot = RebootPolicy.Restart,
        }, serial);
        var events = new List<VmmEventKind>();
        host.Event += e => { lock (events) events.Add(e.Kind); };
        var run = host.RunAsync();

        var deadline = DateTime.UtcNow + GuestTimeout;
        while (CountOf(serial.Text, "PLATFORM-TEST reset START") < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        host.Quit();
        (await run.WaitAsync(GuestTimeout, TestContext.Current.CancellationToken)).Should().Be(VmmExitCode.PowerOff);
        host.Boots.Should().BeGreaterThanOrEqualTo(2);
        lock (events)
        {
            events.Should().Contain(VmmEventKind.Reset).And.Contain(VmmEventKind.Shutdown);
        }
    }

    private static int CountOf(string text, string what)
    {
        int count = 0;
        for (int i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + 1, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
