using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Platform.Engine.Kvm.Interop;

// Blittable mirrors of the structs in include/uapi/linux/kvm.h and arch/x86/include/uapi/asm/kvm.h.
// Each size is asserted against the kernel's in tests/Engine.Tests/Kvm/Interop/KvmStructLayoutTests.cs.

[StructLayout(LayoutKind.Sequential)]
internal struct KvmUserspaceMemoryRegion
{
    public uint Slot;
    public uint Flags;
    public ulong GuestPhysAddr;
    public ulong MemorySize;
    public ulong UserspaceAddr;
}

[StructLayout(LayoutKind.Sequential)]
internal struct KvmRegs
{
    public ulong Rax, Rbx, Rcx, Rdx, Rsi, Rdi, Rsp, Rbp;
    public ulong R8, R9, R10, R11, R12, R13, R14, R15;
    public ulong Rip, Rflags;
}

[StructLayout(LayoutKind.Sequential)]
internal struct KvmSegment
{
    public ulong Base;
    public uint Limit;
    public ushort Selector;
    public byte Type;
    public byte Present, Dpl, Db, S, L, G, Avl;
    public byte Unusable;
    public byte Padding;
}

[StructLayout(LayoutKind.Sequential)]
internal struct KvmDtable
{
    public ulong Base;
    public ushort Limit;
    public ushort Padding0, Padding1, Padding2;
}

[StructLayout(LayoutKind.Sequential)]
internal struct KvmSregs
{
    public KvmSegment Cs, Ds, Es, Fs, Gs, Ss;
    public KvmSegment Tr, Ldt;
    public KvmDtable Gdt, Idt;
    public ulong Cr0, Cr2, Cr3, Cr4, Cr8;
    public ulong Efer;
    public ulong ApicBase;
    public InterruptBitmap InterruptBitmap;
}

[InlineArray(4)]
internal struct InterruptBitmap
{
    private ulong _element;
}

[StructLayout(LayoutKind.Sequential)]
internal struct KvmCpuidEntry2
{
    public uint Function;
    public uint Index;
    public uint Flags;
    public uint Eax, Ebx, Ecx, Edx;
    public uint Padding0, Padding1, Padding2;
}

/// <summary>The fixed head of <c>struct kvm_cpuid2</c>; the entries follow it in the same buffer.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmCpuid2Header
{
    public uint Nent;
    public uint Padding;
}

[StructLayout(LayoutKind.Sequential)]
internal struct KvmMsrEntry
{
    public uint Index;
    public uint Reserved;
    public ulong Data;
}

[StructLayout(LayoutKind.Sequential)]
internal struct KvmMsrsHeader
{
    public uint Nmsrs;
    public uint Pad;
}

[StructLayout(LayoutKind.Sequential)]
internal struct KvmPitConfig
{
    public uint Flags;
    public PitPad Pad;
}

/// <summary>
/// <c>struct kvm_pit_state2</c>: three channel states (24 bytes each, kept opaque: read and written back whole), then the
/// flags and reserved words.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 112)]
internal struct KvmPitState2
{
    /// <summary>KVM_PIT_FLAGS_HPET_LEGACY: the HPET's legacy replacement mode owns IRQ 0, so channel 0 raises nothing.</summary>
    public const uint FlagHpetLegacy = 1;

    [FieldOffset(72)]
    public uint Flags;
}

[InlineArray(15)]
internal struct PitPad
{
    private uint _element;
}

[StructLayout(LayoutKind.Sequential)]
internal struct KvmIrqLevel
{
    public uint Irq;
    public uint Level;
}

[StructLayout(LayoutKind.Sequential)]
internal struct KvmDirtyLog
{
    public uint Slot;
    public uint Padding;
    public ulong DirtyBitmap; // user pointer
}

/// <summary><c>struct kvm_irqfd</c>: writes to the eventfd <see cref="Fd"/> inject GSI <see cref="Gsi"/>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmIrqfd
{
    public const uint FlagDeassign = 1 << 0;

    public uint Fd;
    public uint Gsi;
    public uint Flags;
    public uint ResampleFd;
    public ulong Pad0, Pad1;
}

/// <summary><c>struct kvm_ioeventfd</c>: a guest write to [Addr, Addr + Len) signals the eventfd instead of exiting.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmIoeventfd
{
    public const uint FlagDatamatch = 1 << 0;
    public const uint FlagPio = 1 << 1;
    public const uint FlagDeassign = 1 << 2;

    public ulong Datamatch;
    public ulong Addr;
    public uint Len;
    public int Fd;
    public uint Flags;
    public IoeventfdPad Pad;
}

[InlineArray(36)]
internal struct IoeventfdPad
{
    private byte _element;
}

[StructLayout(LayoutKind.Sequential)]
internal struct KvmMsi
{
    public uint AddressLo;
    public uint AddressHi;
    public uint Data;
    public uint Flags;
    public uint DevId;
    public MsiPad Pad;
}

[InlineArray(12)]
internal struct MsiPad
{
    private byte _element;
}

[StructLayout(LayoutKind.Sequential)]
internal struct KvmIrqRoutingHeader
{
    public uint Nr;
    public uint Flags;
}

/// <summary><c>struct kvm_irq_routing_entry</c>: 16 bytes of head and a 32-byte union (irqchip or msi).</summary>
[StructLayout(LayoutKind.Explicit, Size = 48)]
internal struct KvmIrqRoutingEntry
{
    public const uint TypeIrqchip = 1;
    public const uint TypeMsi = 2;

    [FieldOffset(0)] public uint Gsi;
    [FieldOffset(4)] public uint Type;
    [FieldOffset(8)] public uint Flags;
    [FieldOffset(12)] public uint Pad;
    // irqchip
    [FieldOffset(16)] public uint Irqchip;
    [FieldOffset(20)] public uint Pin;
    // msi
    [FieldOffset(16)] public uint MsiAddressLo;
    [FieldOffset(20)] public uint MsiAddressHi;
    [FieldOffset(24)] public uint MsiData;
}

[StructLayout(LayoutKind.Sequential, Size = 416)]
internal struct KvmFpu
{
    public FpuRegisters Fpr; // 8 x 16 bytes
    public ushort Fcw;
    public ushort Fsw;
    public byte Ftwx;
    public byte Pad1;
    public ushort LastOpcode;
    public ulong LastIp;
    public ulong LastDp;
    public FpuXmm Xmm; // 16 x 16 bytes
    public uint Mxcsr;
    public uint Pad2;
}

[InlineArray(128)]
internal struct FpuRegisters
{
    private byte _element;
}

[InlineArray(256)]
internal struct FpuXmm
{
    private byte _element;
}

[InlineArray(1024)]
internal struct KvmLapicState
{
    private byte _element;
}
