using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Kvm;

/// <summary>A KVM virtual machine file descriptor: memory slots, the in-kernel irqchip and PIT, interrupts, vCPUs.</summary>
public sealed class KvmVm : IDisposable
{
    /// <summary>KVM_MEM_LOG_DIRTY_PAGES: the kernel records which pages of the slot the guest wrote.</summary>
    public const uint MemLogDirtyPages = 1;

    private readonly FileDescriptorHandle _fd;

    internal KvmVm(FileDescriptorHandle fd, KvmSystem system)
    {
        _fd = fd;
        System = system;
    }

    public KvmSystem System { get; }

    internal int Fd => _fd.Fd;

    /// <summary>Maps host memory at <paramref name="hostAddress"/> into the guest at <paramref name="guestPhysical"/>.</summary>
    public unsafe void SetUserMemoryRegion(uint slot, ulong guestPhysical, ulong size, nint hostAddress, uint flags = 0)
    {
        var region = new KvmUserspaceMemoryRegion
        {
            Slot = slot,
            Flags = flags,
            GuestPhysAddr = guestPhysical,
            MemorySize = size,
            UserspaceAddr = (ulong)hostAddress,
        };
        // SAFETY: `region` lives on this stack frame for the duration of the call.
        Check(LibcNative.Ioctl(Fd, KvmIoctls.SetUserMemoryRegion, &region), "KVM_SET_USER_MEMORY_REGION");
    }

    /// <summary>Three pages KVM needs for its real-mode TSS on Intel; must not overlap RAM the guest uses.</summary>
    public void SetTssAddress(ulong address) =>
        Check(LibcNative.Ioctl(Fd, KvmIoctls.SetTssAddr, (nint)address), "KVM_SET_TSS_ADDR");

    public unsafe void SetIdentityMapAddress(ulong address)
    {
        // SAFETY: pointer to a local for the call's duration.
        Check(LibcNative.Ioctl(Fd, KvmIoctls.SetIdentityMapAddr, &address), "KVM_SET_IDENTITY_MAP_ADDR");
    }

    /// <summary>KVM_CREATE_IRQCHIP: in-kernel 8259 PICs, IOAPIC and a LAPIC per vCPU.</summary>
    public void CreateIrqchip() => Check(LibcNative.Ioctl(Fd, KvmIoctls.CreateIrqchip, 0), "KVM_CREATE_IRQCHIP");

    /// <summary>KVM_CREATE_PIT2 with the speaker port dummy, as QEMU and Firecracker configure it.</summary>
    public unsafe void CreatePit2()
    {
        var config = new KvmPitConfig { Flags = 1 /* KVM_PIT_SPEAKER_DUMMY */ };
        // SAFETY: pointer to a local for the call's duration.
        Check(LibcNative.Ioctl(Fd, KvmIoctls.CreatePit2, &config), "KVM_CREATE_PIT2");
    }

    /// <summary>Drives a GSI of the in-kernel irqchip to a level.</summary>
    public unsafe void SetIrqLine(uint gsi, bool level)
    {
        var irq = new KvmIrqLevel { Irq = gsi, Level = level ? 1u : 0u };
        // SAFETY: pointer to a local for the call's duration.
        Check(LibcNative.Ioctl(Fd, KvmIoctls.IrqLine, &irq), "KVM_IRQ_LINE");
    }

    /// <summary>Replaces the whole GSI routing table.</summary>
    internal unsafe void SetGsiRouting(ReadOnlySpan<KvmIrqRoutingEntry> entries)
    {
        int size = sizeof(KvmIrqRoutingHeader) + entries.Length * sizeof(KvmIrqRoutingEntry);
        byte[] buffer = new byte[size];
        fixed (byte* p = buffer)
        {
            ((KvmIrqRoutingHeader*)p)->Nr = (uint)entries.Length;
            entries.CopyTo(new Span<KvmIrqRoutingEntry>(p + sizeof(KvmIrqRoutingHeader), entries.Length));
            // SAFETY: the buffer is pinned and holds the header plus Nr entries.
            Check(LibcNative.Ioctl(Fd, KvmIoctls.SetGsiRouting, p), "KVM_SET_GSI_ROUTING");
        }
    }

    /// <summary>KVM_GET_DIRTY_LOG into a caller-owned bitmap (one bit per page of the slot).</summary>
    public unsafe void GetDirtyLog(uint slot, Span<ulong> bitmap)
    {
        fixed (ulong* p = bitmap)
        {
            var log = new KvmDirtyLog { Slot = slot, DirtyBitmap = (ulong)p };
            // SAFETY: the bitmap is pinned and sized by the caller for the slot's pages.
            Check(LibcNative.Ioctl(Fd, KvmIoctls.GetDirtyLog, &log), "KVM_GET_DIRTY_LOG");
        }
    }

    public KvmVcpu CreateVcpu(int id)
    {
        int fd = LibcNative.Ioctl(Fd, KvmIoctls.CreateVcpu, id);
        if (fd < 0)
        {
            throw new KvmException($"KVM_CREATE_VCPU {id}", LibcNative.LastError,
                "The host may limit vCPUs per VM (KVM_CAP_MAX_VCPUS).");
        }

        return new KvmVcpu(new FileDescriptorHandle(fd), id, System.VcpuMmapSize);
    }

    public void Dispose() => _fd.Dispose();

    internal static void Check(int result, string operation)
    {
        if (result < 0)
        {
            throw new KvmException(operation, LibcNative.LastError);
        }
    }
}
