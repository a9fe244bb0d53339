using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Tests.Kvm.Interop;

// Sizes and offsets from the kernel's headers (include/uapi/linux/kvm.h, arch/x86/include/uapi/asm/kvm.h), as
// kvm-bindings asserts them. A wrong size here would corrupt memory on the ioctl.
public sealed class KvmStructLayoutTests
{
    [Fact]
    public void Sizes_match_the_kernel()
    {
        Unsafe.SizeOf<KvmRegs>().Should().Be(144);
        Unsafe.SizeOf<KvmSregs>().Should().Be(312);
        Unsafe.SizeOf<KvmSegment>().Should().Be(24);
        Unsafe.SizeOf<KvmDtable>().Should().Be(16);
        Unsafe.SizeOf<KvmCpuidEntry2>().Should().Be(40);
        Unsafe.SizeOf<KvmCpuid2Header>().Should().Be(8);
        Unsafe.SizeOf<KvmUserspaceMemoryRegion>().Should().Be(32);
        Unsafe.SizeOf<KvmMsrEntry>().Should().Be(16);
        Unsafe.SizeOf<KvmPitConfig>().Should().Be(64);
        Unsafe.SizeOf<KvmPitState2>().Should().Be(112, "struct kvm_pit_state2: 3 x 24-byte channels, flags, 9 reserved words");
        Unsafe.SizeOf<KvmIrqLevel>().Should().Be(8);
        Unsafe.SizeOf<KvmDirtyLog>().Should().Be(16);
        Unsafe.SizeOf<KvmIrqfd>().Should().Be(32);
        Unsafe.SizeOf<KvmIoeventfd>().Should().Be(64);
        Unsafe.SizeOf<KvmMsi>().Should().Be(32);
        Unsafe.SizeOf<KvmIrqRoutingEntry>().Should().Be(48);
        Unsafe.SizeOf<KvmFpu>().Should().Be(416);
        Unsafe.SizeOf<KvmLapicState>().Should().Be(1024);
        Unsafe.SizeOf<KvmIrqRoutingHeader>().Should().Be(8);
        Unsafe.SizeOf<LibcNative.EpollEvent>().Should().Be(12, "epoll_event is packed on x86-64");
        Unsafe.SizeOf<IfReq>().Should().Be(40);
    }

    [Fact]
    public void Eventfd_and_routing_offsets_match_the_kernel()
    {
        Marshal.OffsetOf<KvmIoeventfd>(nameof(KvmIoeventfd.Addr)).ToInt32().Should().Be(8);
        Marshal.OffsetOf<KvmIoeventfd>(nameof(KvmIoeventfd.Len)).ToInt32().Should().Be(16);
        Marshal.OffsetOf<KvmIoeventfd>(nameof(KvmIoeventfd.Fd)).ToInt32().Should().Be(20);
        Marshal.OffsetOf<KvmIoeventfd>(nameof(KvmIoeventfd.Flags)).ToInt32().Should().Be(24);
        Marshal.OffsetOf<KvmIrqfd>(nameof(KvmIrqfd.Gsi)).ToInt32().Should().Be(4);
        Marshal.OffsetOf<KvmIrqfd>(nameof(KvmIrqfd.Flags)).ToInt32().Should().Be(8);
        Marshal.OffsetOf<KvmMsi>(nameof(KvmMsi.Data)).ToInt32().Should().Be(8);
        Marshal.OffsetOf<KvmIrqRoutingEntry>(nameof(KvmIrqRoutingEntry.MsiAddressLo)).ToInt32().Should().Be(16);
        Marshal.OffsetOf<KvmIrqRoutingEntry>(nameof(KvmIrqRoutingEntry.MsiAddressHi)).ToInt32().Should().Be(20);
        Marshal.OffsetOf<KvmIrqRoutingEntry>(nameof(KvmIrqRoutingEntry.MsiData)).ToInt32().Should().Be(24);
        Marshal.OffsetOf<LibcNative.EpollEvent>(nameof(LibcNative.EpollEvent.Data)).ToInt32().Should().Be(4);
        Marshal.OffsetOf<IfReq>(nameof(IfReq.Flags)).ToInt32().Should().Be(16);
    }

    [Theory]
    [InlineData(nameof(KvmRun.ExitReason), 8)]
    [InlineData(nameof(KvmRun.ImmediateExit), 1)]
    [InlineData(nameof(KvmRun.IoDirection), 32)]
    [InlineData(nameof(KvmRun.IoPort), 34)]
    [InlineData(nameof(KvmRun.IoDataOffset), 40)]
    [InlineData(nameof(KvmRun.MmioPhysAddr), 32)]
    [InlineData(nameof(KvmRun.MmioData), 40)]
    [InlineData(nameof(KvmRun.MmioLen), 48)]
    [InlineData(nameof(KvmRun.MmioIsWrite), 52)]
    [InlineData(nameof(KvmRun.InternalSuberror), 32)]
    [InlineData(nameof(KvmRun.SystemEventType), 32)]
    public void Kvm_run_offsets_match_the_kernel(string field, int offset) =>
        Marshal.OffsetOf<KvmRun>(field).ToInt32().Should().Be(offset);

    [Fact]
    public void Sregs_offsets_match_the_kernel()
    {
        Marshal.OffsetOf<KvmSregs>(nameof(KvmSregs.Gdt)).ToInt32().Should().Be(192);
        Marshal.OffsetOf<KvmSregs>(nameof(KvmSregs.Cr0)).ToInt32().Should().Be(224);
        Marshal.OffsetOf<KvmSregs>(nameof(KvmSregs.Efer)).ToInt32().Should().Be(264);
        Marshal.OffsetOf<KvmSregs>(nameof(KvmSregs.ApicBase)).ToInt32().Should().Be(272);
        Marshal.OffsetOf<KvmFpu>(nameof(KvmFpu.Mxcsr)).ToInt32().Should().Be(408);
    }

    [Theory]
    [InlineData("run", 0xAE80u)]
    [InlineData("regs", 0x8090AE81u)]
    [InlineData("sregs", 0x4138AE84u)]
    [InlineData("memregion", 0x4020AE46u)]
    [InlineData("cpuid", 0xC008AE05u)]
    [InlineData("ioeventfd", 0x4040AE79u)]
    [InlineData("irqfd", 0x4020AE76u)]
    [InlineData("signal-msi", 0x4020AEA5u)]
    [InlineData("gsi-routing", 0x4008AE6Au)]
    [InlineData("tunsetiff", 0x400454CAu)]
    [InlineData("tungetfeatures", 0x800454CFu)]
    [InlineData("tunsetoffload", 0x400454D0u)]
    [InlineData("tunsetvnethdrsz", 0x400454D8u)]
    public void Ioctl_numbers_match_the_kernel(string which, uint expected)
    {
        nuint actual = which switch
        {
            "run" => KvmIoctls.Run,
            "regs" => KvmIoctls.GetRegs,
            "sregs" => KvmIoctls.SetSregs,
            "memregion" => KvmIoctls.SetUserMemoryRegion,
            "ioeventfd" => KvmIoctls.Ioeventfd,
            "irqfd" => KvmIoctls.Irqfd,
            "signal-msi" => KvmIoctls.SignalMsi,
            "gsi-routing" => KvmIoctls.SetGsiRouting,
            "tunsetiff" => TunIoctls.SetInterface,
            "tungetfeatures" => TunIoctls.GetFeatures,
            "tunsetoffload" => TunIoctls.SetOffload,
            "tunsetvnethdrsz" => TunIoctls.SetVnetHeaderSize,
            _ => KvmIoctls.GetSupportedCpuid,
        };
        actual.Should().Be(expected);
    }
}
