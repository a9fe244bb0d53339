namespace Platform.Engine.Kvm.Interop;

/// <summary>The KVM ioctls we use, numbered as in include/uapi/linux/kvm.h.</summary>
internal static class KvmIoctls
{
    // On /dev/kvm
    public static readonly nuint GetApiVersion = Ioctl.Io(0x00);
    public static readonly nuint CreateVm = Ioctl.Io(0x01);
    public static readonly nuint CheckExtension = Ioctl.Io(0x03);
    public static readonly nuint GetVcpuMmapSize = Ioctl.Io(0x04);
    public static readonly nuint GetSupportedCpuid = Ioctl.IoWR<KvmCpuid2Header>(0x05);

    // On a VM
    public static readonly nuint CreateVcpu = Ioctl.Io(0x41);
    public static readonly nuint GetDirtyLog = Ioctl.IoW<KvmDirtyLog>(0x42);
    public static readonly nuint SetUserMemoryRegion = Ioctl.IoW<KvmUserspaceMemoryRegion>(0x46);
    public static readonly nuint SetTssAddr = Ioctl.Io(0x47);
    public static readonly nuint SetIdentityMapAddr = Ioctl.IoW<ulong>(0x48);
    public static readonly nuint CreateIrqchip = Ioctl.Io(0x60);
    public static readonly nuint IrqLine = Ioctl.IoW<KvmIrqLevel>(0x61);
    public static readonly nuint SetGsiRouting = Ioctl.IoW<KvmIrqRoutingHeader>(0x6a);
    public static readonly nuint Irqfd = Ioctl.IoW<KvmIrqfd>(0x76);
    public static readonly nuint CreatePit2 = Ioctl.IoW<KvmPitConfig>(0x77);
    public static readonly nuint GetPit2 = Ioctl.IoR<KvmPitState2>(0x9F);
    public static readonly nuint SetPit2 = Ioctl.IoW<KvmPitState2>(0xA0);
    public static readonly nuint Ioeventfd = Ioctl.IoW<KvmIoeventfd>(0x79);
    public static readonly nuint SignalMsi = Ioctl.IoW<KvmMsi>(0xa5);

    // On a vCPU
    public static readonly nuint Run = Ioctl.Io(0x80);
    public static readonly nuint GetRegs = Ioctl.IoR<KvmRegs>(0x81);
    public static readonly nuint SetRegs = Ioctl.IoW<KvmRegs>(0x82);
    public static readonly nuint GetSregs = Ioctl.IoR<KvmSregs>(0x83);
    public static readonly nuint SetSregs = Ioctl.IoW<KvmSregs>(0x84);
    public static readonly nuint SetMsrs = Ioctl.IoW<KvmMsrsHeader>(0x89);
    public static readonly nuint SetSignalMask = Ioctl.IoW<uint>(0x8b);
    public static readonly nuint GetFpu = Ioctl.IoR<KvmFpu>(0x8c);
    public static readonly nuint SetFpu = Ioctl.IoW<KvmFpu>(0x8d);
    public static readonly nuint GetLapic = Ioctl.IoR<KvmLapicState>(0x8e);
    public static readonly nuint SetLapic = Ioctl.IoW<KvmLapicState>(0x8f);
    public static readonly nuint SetCpuid2 = Ioctl.IoW<KvmCpuid2Header>(0x90);
    public static readonly nuint GetMpState = Ioctl.IoR<uint>(0x98);
    public static readonly nuint SetMpState = Ioctl.IoW<uint>(0x99);
}

/// <summary>KVM_CAP_* numbers we check before relying on them.</summary>
public enum KvmCapability
{
    Irqchip = 0,
    Hlt = 1,
    UserMemory = 3,
    SetTssAddr = 4,
    ExtCpuid = 7,
    NrVcpus = 9,
    Pit = 11,
    NrMemslots = 10,
    SyncMmu = 16,
    IoMmu = 18,
    IrqRouting = 25,
    Pit2 = 33,
    SetIdentityMapAddr = 37,
    Ioeventfd = 36,
    Irqfd = 32,
    AdjustClock = 39,
    SignalMsi = 77,
    MaxVcpus = 66,
    ImmediateExit = 136,
}
