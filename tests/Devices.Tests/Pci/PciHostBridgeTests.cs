using System.Buffers.Binary;
using Platform.Devices.Pci;
using Platform.Devices.Tests.Fakes;

namespace Platform.Devices.Tests.Pci;

// Drives configuration mechanism #1 through ports 0xCF8-0xCFF as Linux's arch/x86/pci/direct.c does.
public sealed class PciHostBridgeTests
{
    private readonly PciBus _bus = new();
    private readonly PciHostBridge _bridge;
    private readonly PciConfigPorts _ports;
    private readonly TestPciFunction _function = new(new RecordingMsiTarget(), intx: null);

    public PciHostBridgeTests()
    {
        _bridge = new PciHostBridge(_bus);
        _ports = new PciConfigPorts(_bridge);
        _bus.Attach(3, _function);
    }

    private uint ReadAddressRegister()
    {
        Span<byte> b = stackalloc byte[4];
        _bridge.Read(0, b);
        return BinaryPrimitives.ReadUInt32LittleEndian(b);
    }

    [Fact]
    public void The_address_register_reads_back_and_survives_Linux_byte_probe_at_0xCFB()
    {
        _ports.Select(0x8000_0000);
        ReadAddressRegister().Should().Be(0x8000_0000);

        // pci_check_type1: outb(0x01, 0xCFB) must not disturb the dword register.
        _bridge.Write(3, [0x01]);
        ReadAddressRegister().Should().Be(0x8000_0000);
        _bridge.BadAccesses.Should().Be(0);
    }

    [Fact]
    public void The_host_bridge_sits_at_device_0_with_the_host_bridge_class()
    {
        _ports.Read16(0, PciRegisters.VendorId).Should().Be(0x8086);
        (_ports.Read32(0, PciRegisters.RevisionId) >> 8).Should().Be(0x06_00_00, "pci_sanity_check looks for class 0x0600");
        _ports.Read8(0, PciRegisters.HeaderType).Should().Be(0);
    }

    [Fact]
    public void Byte_word_and_dword_reads_reach_the_addressed_bytes_at_any_window_offset()
    {
        uint ids = _ports.Read32(3, 0);
        ids.Should().Be(0x5678_1234);
        _ports.Read16(3, 0).Should().Be(0x1234);
        _ports.Read16(3, 2).Should().Be(0x5678);
        _ports.Read16(3, 1).Should().Be(0x7812, "a word at 0xCFD reaches bytes 1 and 2");
        _ports.Read8(3, 0).Should().Be(0x34);
        _ports.Read8(3, 1).Should().Be(0x12);
        _ports.Read8(3, 2).Should().Be(0x78);
        _ports.Read8(3, 3).Should().Be(0x56);
    }

    [Fact]
    public void Byte_and_word_writes_inside_the_window_change_only_their_bytes()
    {
        _ports.Write8(3, PciRegisters.InterruptLine, 0x0B);
        _ports.Read8(3, PciRegisters.InterruptLine).Should().Be(0x0B);
        _ports.Write16(3, PciRegisters.CacheLineSize, 0x4010);
        _ports.Read8(3, PciRegisters.CacheLineSize).Should().Be(0x10);
        _ports.Read8(3, PciRegisters.LatencyTimer).Should().Be(0x40);
        _ports.Read8(3, PciRegisters.InterruptLine).Should().Be(0x0B);
    }

    [Theory]
    [InlineData(5, 0, 0)]   // empty slot
    [InlineData(3, 1, 0)]   // function 1 of a single-function device
    [InlineData(3, 0, 1)]   // bus 1 does not exist
    public void Absent_functions_read_all_ones(int device, int function, int bus)
    {
        _ports.Select(PciConfigPorts.ConfigAddress(device, 0, bus, function));
        Span<byte> b = stackalloc byte[4];
        _bridge.Read(4, b);
        BinaryPrimitives.ReadUInt32LittleEndian(b).Should().Be(0xFFFF_FFFF);
    }

    [Fact]
    public void Without_the_enable_bit_the_data_window_reads_all_ones_and_ignores_writes()
    {
        _ports.Select(PciConfigPorts.ConfigAddress(3, PciRegisters.InterruptLine) & 0x7FFF_FFFF);
        _bridge.Write(4, [0x55, 0, 0, 0]);
        Span<byte> b = stackalloc byte[4];
        _bridge.Read(4, b);
        BinaryPrimitives.ReadUInt32LittleEndian(b).Should().Be(0xFFFF_FFFF);
        _ports.Read8(3, PciRegisters.InterruptLine).Should().Be(0);
    }

    [Fact]
    public void An_access_that_would_run_past_0xCFF_is_counted_and_reads_ones()
    {
        _ports.Select(PciConfigPorts.ConfigAddress(3, 0));
        Span<byte> b = stackalloc byte[2];
        _bridge.Read(7, b);
        b.ToArray().Should().Equal(0xFF, 0xFF);
        _bridge.BadAccesses.Should().Be(1);
    }

    [Fact]
    public void Reset_control_at_0xCF9_requests_a_reset_on_the_reset_cpu_bit()
    {
        int resets = 0;
        _bridge.ResetRequested = () => resets++;
        _bridge.Write(1, [0x02]);
        resets.Should().Be(0, "SYS_RST alone only selects a hard reset");
        _bridge.Write(1, [0x06]);
        resets.Should().Be(1);
    }
}
