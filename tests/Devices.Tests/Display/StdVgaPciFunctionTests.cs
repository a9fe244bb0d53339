using System.Buffers.Binary;
using Platform.Devices.Display;
using Platform.Devices.Pci;
using Platform.Devices.Tests.Fakes;

namespace Platform.Devices.Tests.Display;

// The std-vga as a guest finds it on the PCI bus: identity, BARs as QEMU lays them out, and the BARs' contents.
public sealed class StdVgaPciFunctionTests
{
    private const int Slot = 3;
    private const int MiB = 1024 * 1024;

    private readonly byte[] _vram = new byte[4 * MiB];
    private readonly StdVga _vga;
    private readonly StdVgaPciFunction _function;
    private readonly PciBus _bus;
    private readonly PciConfigPorts _ports;

    public StdVgaPciFunctionTests()
    {
        _vga = new StdVga(_vram);
        _function = new StdVgaPciFunction(_vga);
        _bus = new PciBus(new RecordingBarObserver());
        _bus.Attach(Slot, _function);
        _ports = new PciConfigPorts(new PciHostBridge(_bus));
    }

    [Fact]
    public void Identifies_itself_as_QEMUs_std_vga()
    {
        _ports.Read16(Slot, PciRegisters.VendorId).Should().Be(0x1234);
        _ports.Read16(Slot, PciRegisters.DeviceId).Should().Be(0x1111);
        (_ports.Read32(Slot, PciRegisters.RevisionId) >> 8).Should().Be(0x030000u, "a VGA-compatible display controller");
        _ports.Read8(Slot, PciRegisters.RevisionId).Should().Be(2, "Linux's bochs driver reads the QEMU extension only from revision 2");
        _ports.Read16(Slot, PciRegisters.SubsystemVendorId).Should().Be(0x1AF4);
        _ports.Read16(Slot, PciRegisters.SubsystemId).Should().Be(0x1100);
        _ports.Read8(Slot, PciRegisters.InterruptPin).Should().Be(0, "the std-vga raises no interrupts");
    }

    [Fact]
    public void BAR_0_is_prefetchable_video_memory_and_BAR_2_the_4_KiB_register_window()
    {
        (_ports.Read32(Slot, PciRegisters.Bar0) & 0xF).Should().Be(PciRegisters.BarMemoryPrefetchable, "32-bit prefetchable memory");
        _ports.SizeBar(Slot, 0).Should().Be((ulong)_vram.Length);
        (_ports.Read32(Slot, PciRegisters.Bar0 + 8) & 0xF).Should().Be(0u, "32-bit, not prefetchable");
        _ports.SizeBar(Slot, 2).Should().Be(0x1000ul);
        _ports.Write32(Slot, PciRegisters.Bar0 + 4, 0xFFFF_FFFF);
        _ports.Read32(Slot, PciRegisters.Bar0 + 4).Should().Be(0u, "BAR 1 is not implemented");
    }

    [Fact]
    public void BAR_2_reaches_the_DISPI_registers()
    {
        WriteBar16(StdVgaPciFunction.MmioBar, 0x500 + (2 * 1), 800);  // XRES
        WriteBar16(StdVgaPciFunction.MmioBar, 0x500 + (2 * 2), 600);  // YRES
        WriteBar16(StdVgaPciFunction.MmioBar, 0x500 + (2 * 3), 32);   // BPP
        WriteBar16(StdVgaPciFunction.MmioBar, 0x500 + (2 * 4), 0x41); // ENABLE | LFB

        _vga.Mode.Should().Match<DisplayMode>(m => m.Enabled && m.Width == 800 && m.Height == 600 && m.Stride == 3200);
        ReadBar16(StdVgaPciFunction.MmioBar, 0x500 + (2 * 1)).Should().Be(800);
    }

    [Fact]
    public void Video_memory_accesses_that_exit_are_served_from_the_same_memory_and_counted()
    {
        _vram[0x1234] = 0x5A;
        Span<byte> word = stackalloc byte[4];
        _function.ReadBar(StdVgaPciFunction.VideoMemoryBar, 0x1234, word);
        word[0].Should().Be(0x5A);

        BinaryPrimitives.WriteUInt32LittleEndian(word, 0x00FF8040);
        _function.WriteBar(StdVgaPciFunction.VideoMemoryBar, (ulong)_vram.Length - 4, word);
        BinaryPrimitives.ReadUInt32LittleEndian(_vram.AsSpan(_vram.Length - 4)).Should().Be(0x00FF8040u);
        _function.VideoMemoryWritesThroughBar.Should().Be(1);
    }

    [Fact]
    public void An_access_past_the_end_of_a_BAR_is_counted_and_touches_nothing()
    {
        Span<byte> word = stackalloc byte[4];
        word.Fill(0xAA);
        _function.WriteBar(StdVgaPciFunction.VideoMemoryBar, (ulong)_vram.Length - 2, word);
        _function.ReadBar(StdVgaPciFunction.MmioBar, 0x1000, word);
        _function.WriteBar(4, 0, word);

        _function.BadAccesses.Should().Be(3);
        _function.VideoMemoryWritesThroughBar.Should().Be(0);
        _vram.AsSpan(_vram.Length - 2).ToArray().Should().Equal(0, 0);
        word.ToArray().Should().Equal(0, 0, 0, 0);
    }

    private void WriteBar16(int bar, ulong offset, ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, value);
        _function.WriteBar(bar, offset, b);
    }

    private ushort ReadBar16(int bar, ulong offset)
    {
        Span<byte> b = stackalloc byte[2];
        _function.ReadBar(bar, offset, b);
        return BinaryPrimitives.ReadUInt16LittleEndian(b);
    }
}
