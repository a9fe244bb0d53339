using Platform.Devices.Pci;

namespace Platform.Devices.Display;

/// <summary>
/// The std-vga as PCI function 1234:1111 (class 0x030000, revision 2), laid out as QEMU's: BAR 0 the linear
/// framebuffer (32-bit, prefetchable, the size of video memory), BAR 2 the 4 KiB MMIO register window. No interrupt
/// pin and no expansion ROM BAR: a BIOS machine hands SeaBIOS the VGA BIOS through fw_cfg instead.
/// </summary>
/// <remarks>
/// The engine maps video memory into the guest at BAR 0 as a memory slot of its own, so guest accesses to it never
/// exit. While that slot is not mapped (the guest is moving the BAR, or put it where the engine will not map memory)
/// accesses reach <see cref="PciFunction.ReadBar"/> through the PCI window instead, and are served from the same
/// memory here: slower, but the guest sees the same bytes. <see cref="VideoMemoryWritesThroughBar"/> counts those
/// writes so the display server knows the dirty log missed them.
/// </remarks>
public sealed class StdVgaPciFunction : PciFunction
{
    public const int VideoMemoryBar = 0;
    public const int MmioBar = 2;

    private readonly StdVga _vga;
    private long _videoMemoryWrites;

    public StdVgaPciFunction(StdVga vga)
        : base(new PciConfigSpace(StdVga.PciVendorId, StdVga.PciDeviceId, StdVga.PciClassCode, StdVga.PciRevision), intx: null)
    {
        ArgumentNullException.ThrowIfNull(vga);
        _vga = vga;
        Config.SetWord(PciRegisters.SubsystemVendorId, StdVga.PciSubsystemVendorId);
        Config.SetWord(PciRegisters.SubsystemId, StdVga.PciSubsystemId);
        // A VGA decodes the legacy ports 0x3C0-0x3DF, so its I/O space bit exists (QEMU's does too), and SeaBIOS
        // takes a display for the primary VGA only when both I/O and memory decoding read back as on.
        Config.MakeWritable(PciRegisters.Command, 2, PciRegisters.CommandWritableBits | PciRegisters.CommandIoSpace);
        AddMemoryBar(VideoMemoryBar, (ulong)vga.VideoMemory.Length, is64Bit: false, prefetchable: true);
        AddMemoryBar(MmioBar, StdVga.MmioBarSize, is64Bit: false);
    }

    public StdVga Vga => _vga;

    /// <summary>Guest writes to video memory that arrived as MMIO exits rather than through the memory slot.</summary>
    public long VideoMemoryWritesThroughBar => Interlocked.Read(ref _videoMemoryWrites);

    protected override void OnBarRead(int barIndex, ulong offset, Span<byte> data)
    {
        // PciFunction checked that offset + length lies inside the BAR.
        switch (barIndex)
        {
            case VideoMemoryBar:
                _vga.VideoMemory.Span.Slice((int)offset, data.Length).CopyTo(data);
                break;
            case MmioBar:
                _vga.MmioRegisters.Read(offset, data);
                break;
            default:
                CountBadAccess();
                data.Clear();
                break;
        }
    }

    protected override void OnBarWritten(int barIndex, ulong offset, ReadOnlySpan<byte> data)
    {
        switch (barIndex)
        {
            case VideoMemoryBar:
                data.CopyTo(_vga.VideoMemory.Span.Slice((int)offset, data.Length));
                Interlocked.Increment(ref _videoMemoryWrites);
                break;
            case MmioBar:
                _vga.MmioRegisters.Write(offset, data);
                break;
            default:
                CountBadAccess();
                break;
        }
    }
}
