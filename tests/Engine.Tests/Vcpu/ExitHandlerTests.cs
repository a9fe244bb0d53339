using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Platform.Devices.Abstractions;
using Platform.Engine.Kvm.Interop;
using Platform.Engine.Machine;
using Platform.Engine.Vcpu;

namespace Platform.Engine.Tests.Vcpu;

// The exit handler with fake kvm_run pages: dispatch by range, string I/O, malformed exits, no allocation.
public sealed unsafe class ExitHandlerTests : IDisposable
{
    private const int PageSize = 4096;
    private readonly byte* _page = (byte*)NativeMemory.AllocZeroed(PageSize);
    private readonly IoBus _ports = new("ports");
    private readonly IoBus _mmio = new("mmio");
    private readonly RecordingDevice _portDevice = new();
    private readonly RecordingDevice _mmioDevice = new();

    public ExitHandlerTests()
    {
        _ports.Register(0x3F8, 8, _portDevice);
        _mmio.Register(0xD000_0000, 0x1000, _mmioDevice);
    }

    private KvmRun* Run => (KvmRun*)_page;

    private Span<byte> Page => new(_page, PageSize);

    public void Dispose() => NativeMemory.Free(_page);

    private void PortExit(bool output, ushort port, byte size, uint count, params byte[] data)
    {
        Run->ExitReason = (uint)KvmExitReason.Io;
        Run->IoDirection = (byte)(output ? 1 : 0);
        Run->IoPort = port;
        Run->IoSize = size;
        Run->IoCount = count;
        Run->IoDataOffset = 1024;
        data.CopyTo(Page[1024..]);
    }

    [Fact]
    public void Port_write_reaches_the_device_at_its_offset()
    {
        PortExit(true, 0x3FB, 1, 1, 0x83);
        ExitHandler.Handle(Run, Page, _ports, _mmio, out _).Should().Be(ExitAction.Continue);
        _portDevice.Writes.Should().ContainSingle().Which.Should().Be((3ul, 0x83ul, 1));
    }

    [Fact]
    public void String_output_delivers_every_element()
    {
        PortExit(true, 0x3F8, 1, 3, (byte)'a', (byte)'b', (byte)'c');
        ExitHandler.Handle(Run, Page, _ports, _mmio, out _);
        _portDevice.Writes.Select(w => (char)w.Value).Should().Equal('a', 'b', 'c');
    }

    [Fact]
    public void Unclaimed_port_reads_all_ones_and_is_counted()
    {
        PortExit(false, 0x1234, 2, 1, 0, 0);
        ExitHandler.Handle(Run, Page, _ports, _mmio, out _).Should().Be(ExitAction.Continue);
        Page[1024].Should().Be(0xFF);
        Page[1025].Should().Be(0xFF);
        _ports.UnclaimedReads.Should().Be(1);
    }

    [Fact]
    public void Mmio_read_fills_the_exit_data()
    {
        Run->ExitReason = (uint)KvmExitReason.Mmio;
        Run->MmioPhysAddr = 0xD000_0010;
        Run->MmioLen = 4;
        Run->MmioIsWrite = 0;
        _mmioDevice.ReadValue = 0xA5;
        ExitHandler.Handle(Run, Page, _ports, _mmio, out _).Should().Be(ExitAction.Continue);
        (Run->MmioData & 0xFFFF_FFFF).Should().Be(0xA5A5_A5A5);
        _mmioDevice.Reads.Should().ContainSingle().Which.Should().Be(0x10ul);
    }

    [Fact]
    public void A_port_exit_whose_data_runs_off_the_page_is_fatal_not_a_crash()
    {
        PortExit(true, 0x3F8, 4, 2000);
        ExitHandler.Handle(Run, Page, _ports, _mmio, out string? detail).Should().Be(ExitAction.Fatal);
        detail.Should().Contain("malformed");
        _portDevice.Writes.Should().BeEmpty();
    }

    [Theory]
    [InlineData(8u, ExitAction.Reset)] // KVM_EXIT_SHUTDOWN: a triple fault
    [InlineData(17u, ExitAction.Fatal)] // KVM_EXIT_INTERNAL_ERROR
    [InlineData(9u, ExitAction.Fatal)] // KVM_EXIT_FAIL_ENTRY
    [InlineData(10u, ExitAction.Interrupted)] // KVM_EXIT_INTR
    [InlineData(999u, ExitAction.Fatal)]
    public void Other_exits_map_to_actions(uint reason, ExitAction expected)
    {
        Run->ExitReason = reason;
        ExitHandler.Handle(Run, Page, _ports, _mmio, out _).Should().Be(expected);
    }

    [Fact]
    public void Handling_many_exits_allocates_nothing()
    {
        var quiet = new IoBus("quiet");
        quiet.Register(0x80, 1, new PostCodePort());
        // Warm up first: tiered compilation and on-stack replacement allocate once on this thread while the
        // handler's code is promoted; the exit path itself must not allocate at all once it is running.
        RunExits(quiet, 200_000);
        Thread.Sleep(300);
        RunExits(quiet, 200_000);

        long before = GC.GetAllocatedBytesForCurrentThread();
        int continued = RunExits(quiet, 100_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        allocated.Should().Be(0);
        continued.Should().Be(100_000);
        quiet.UnclaimedWrites.Should().Be(0);
        _mmio.UnclaimedWrites.Should().Be(500_000);
    }

    /// <summary>Port and MMIO exits in turn; returns how many port exits asked to continue.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int RunExits(IoBus ports, int count)
    {
        int continued = 0;
        for (int i = 0; i < count; i++)
        {
            // The io and mmio members share the kvm_run union, so each exit is written in full, as KVM does.
            Run->ExitReason = (uint)KvmExitReason.Io;
            Run->IoDirection = 1;
            Run->IoSize = 1;
            Run->IoPort = 0x80;
            Run->IoCount = 1;
            Run->IoDataOffset = 1024;
            continued += ExitHandler.Handle(Run, Page, ports, _mmio, out _) == ExitAction.Continue ? 1 : 0;
            Run->ExitReason = (uint)KvmExitReason.Mmio;
            Run->MmioPhysAddr = 0xE000_0000;
            Run->MmioLen = 4;
            Run->MmioIsWrite = 1;
            ExitHandler.Handle(Run, Page, ports, _mmio, out _);
        }

        return continued;
    }

    private sealed class RecordingDevice : IBusDevice
    {
        public List<(ulong Offset, ulong Value, int Width)> Writes { get; } = [];

        public List<ulong> Reads { get; } = [];

        public byte ReadValue { get; set; }

        public void Read(ulong offset, Span<byte> data)
        {
            Reads.Add(offset);
            data.Fill(ReadValue);
        }

        public void Write(ulong offset, ReadOnlySpan<byte> data)
        {
            ulong value = 0;
            for (int i = data.Length - 1; i >= 0; i--)
            {
                value = value << 8 | data[i];
            }

            Writes.Add((offset, value, data.Length));
        }
    }
}
