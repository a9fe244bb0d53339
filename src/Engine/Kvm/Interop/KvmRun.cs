using System.Runtime.InteropServices;

namespace Platform.Engine.Kvm.Interop;

/// <summary>
/// The head of <c>struct kvm_run</c>, the page shared with the kernel through the vCPU's mmap, with the exit
/// union members we decode. Offsets are the kernel's; the union starts at 32.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 304)]
internal struct KvmRun
{
    [FieldOffset(0)] public byte RequestInterruptWindow;
    [FieldOffset(1)] public byte ImmediateExit;
    [FieldOffset(8)] public uint ExitReason;
    [FieldOffset(12)] public byte ReadyForInterruptInjection;
    [FieldOffset(13)] public byte IfFlag;
    [FieldOffset(14)] public ushort Flags;
    [FieldOffset(16)] public ulong Cr8;
    [FieldOffset(24)] public ulong ApicBase;

    // KVM_EXIT_IO
    [FieldOffset(32)] public byte IoDirection;
    [FieldOffset(33)] public byte IoSize;
    [FieldOffset(34)] public ushort IoPort;
    [FieldOffset(36)] public uint IoCount;
    [FieldOffset(40)] public ulong IoDataOffset;

    // KVM_EXIT_MMIO
    [FieldOffset(32)] public ulong MmioPhysAddr;
    [FieldOffset(40)] public ulong MmioData;
    [FieldOffset(48)] public uint MmioLen;
    [FieldOffset(52)] public byte MmioIsWrite;

    // KVM_EXIT_FAIL_ENTRY
    [FieldOffset(32)] public ulong FailEntryHardwareReason;
    [FieldOffset(40)] public uint FailEntryCpu;

    // KVM_EXIT_INTERNAL_ERROR
    [FieldOffset(32)] public uint InternalSuberror;
    [FieldOffset(36)] public uint InternalNdata;
    [FieldOffset(40)] public ulong InternalData0;
    [FieldOffset(48)] public ulong InternalData1;

    // KVM_EXIT_SYSTEM_EVENT
    [FieldOffset(32)] public uint SystemEventType;
}

/// <summary>KVM_EXIT_* reasons.</summary>
internal enum KvmExitReason : uint
{
    Unknown = 0,
    Exception = 1,
    Io = 2,
    Hypercall = 3,
    Debug = 4,
    Hlt = 5,
    Mmio = 6,
    IrqWindowOpen = 7,
    Shutdown = 8,
    FailEntry = 9,
    Intr = 10,
    SetTpr = 11,
    TprAccess = 12,
    Nmi = 16,
    InternalError = 17,
    SystemEvent = 24,
}
