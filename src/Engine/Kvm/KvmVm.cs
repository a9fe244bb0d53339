using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Kvm;

/// <summary>A KVM virtual machine file descriptor: memory slots, the in-kernel irqchip and PIT, interrupts, vCPUs.</summary>
public sealed class KvmVm : IDisposable
{
    /// <summary>KVM_MEM_LOG_DIRTY_PAGES: the kernel records which pages of the slot the guest wrote.</summary>
    public const uint MemLogDirtyPages = 1;

    /// <summary>KVM_MEM_READONLY: the guest reads the slot's memory, and its writes exit as MMIO (flash, write-protected shadow RAM).</summary>
    public const uint MemReadOnly = 2;

    /// <summary>The page size of KVM's dirty log and memory slots on x86.</summary>
    public const ulong PageSize = 4096;

    private readonly FileDescriptorHandle _fd;

    internal KvmVm(FileDescriptorHandle fd, KvmSystem system)
    {
        _fd = fd;
        System = system;
    }

    public KvmSystem System { get; }

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
        // SAFETY: `region` lives on this stack frame for the duration of the call. The host range it names is the
        // caller's mapping, which the caller keeps mapped until the slot is deleted or the VM is gone.
        Check(LibcNative.Ioctl(_fd, KvmIoctls.SetUserMemoryRegion, &region), "KVM_SET_USER_MEMORY_REGION");
    }

    /// <summary>
    /// KVM_SET_USER_MEMORY_REGION that reports failure as an errno (0 on success) instead of throwing, for slots the
    /// guest moves (a framebuffer BAR): EEXIST when the range overlaps another slot, EINVAL for a bad address or size.
    /// A <paramref name="size"/> of 0 deletes the slot.
    /// </summary>
    internal unsafe int TrySetUserMemoryRegion(uint slot, ulong guestPhysical, ulong size, nint hostAddress, uint flags)
    {
        var region = new KvmUserspaceMemoryRegion
        {
            Slot = slot,
            Flags = flags,
            GuestPhysAddr = guestPhysical,
            MemorySize = size,
            UserspaceAddr = (ulong)hostAddress,
        };
        // SAFETY: `region` lives on this stack frame for the duration of the call. The host range it names is the
        // caller's mapping, which the caller keeps mapped until the slot is deleted or the VM is gone.
        return LibcNative.Ioctl(_fd, KvmIoctls.SetUserMemoryRegion, &region) < 0 ? LibcNative.LastError : 0;
    }

    /// <summary>Deletes a memory slot (KVM_SET_USER_MEMORY_REGION with size 0); 0 or the errno.</summary>
    internal int TryRemoveUserMemoryRegion(uint slot) => TrySetUserMemoryRegion(slot, 0, 0, 0, 0);

    /// <summary>Three pages KVM needs for its real-mode TSS on Intel; must not overlap RAM the guest uses.</summary>
    public void SetTssAddress(ulong address) =>
        Check(LibcNative.Ioctl(_fd, KvmIoctls.SetTssAddr, (nint)address), "KVM_SET_TSS_ADDR");

    public unsafe void SetIdentityMapAddress(ulong address)
    {
        // SAFETY: pointer to a local for the call's duration.
        Check(LibcNative.Ioctl(_fd, KvmIoctls.SetIdentityMapAddr, &address), "KVM_SET_IDENTITY_MAP_ADDR");
    }

    /// <summary>KVM_CREATE_IRQCHIP: in-kernel 8259 PICs, IOAPIC and a LAPIC per vCPU.</summary>
    public void CreateIrqchip() => Check(LibcNative.Ioctl(_fd, KvmIoctls.CreateIrqchip, 0), "KVM_CREATE_IRQCHIP");

    /// <summary>KVM_CREATE_PIT2 with the speaker port dummy, as QEMU and Firecracker configure it.</summary>
    public unsafe void CreatePit2()
    {
        var config = new KvmPitConfig { Flags = 1 /* KVM_PIT_SPEAKER_DUMMY */ };
        // SAFETY: pointer to a local for the call's duration.
        Check(LibcNative.Ioctl(_fd, KvmIoctls.CreatePit2, &config), "KVM_CREATE_PIT2");
    }

    /// <summary>
    /// Sets or clears the in-kernel PIT's HPET legacy flag (KVM_GET_PIT2, then KVM_SET_PIT2 with the flag changed): while
    /// set, channel 0 raises no IRQ 0, which the HPET's timer 0 then owns; cleared, channel 0 counts again from its count.
    /// </summary>
    public unsafe void SetPitHpetLegacy(bool legacy)
    {
        KvmPitState2 state = default;
        // SAFETY: pointers to a local of the kernel's struct size for each call's duration.
        Check(LibcNative.Ioctl(_fd, KvmIoctls.GetPit2, &state), "KVM_GET_PIT2");
        state.Flags = legacy ? state.Flags | KvmPitState2.FlagHpetLegacy : state.Flags & ~KvmPitState2.FlagHpetLegacy;
        Check(LibcNative.Ioctl(_fd, KvmIoctls.SetPit2, &state), "KVM_SET_PIT2");
    }

    /// <summary>Drives a GSI of the in-kernel irqchip to a level.</summary>
    public unsafe void SetIrqLine(uint gsi, bool level)
    {
        var irq = new KvmIrqLevel { Irq = gsi, Level = level ? 1u : 0u };
        // SAFETY: pointer to a local for the call's duration.
        Check(LibcNative.Ioctl(_fd, KvmIoctls.IrqLine, &irq), "KVM_IRQ_LINE");
    }

    /// <summary>Replaces the whole GSI routing table.</summary>
    internal unsafe void SetGsiRouting(ReadOnlySpan<KvmIrqRoutingEntry> entries)
    {
        int size = sizeof(KvmIrqRoutingHeader) + entries.Length * sizeof(KvmIrqRoutingEntry);
        byte[] buffer = new byte[size];
        fixed (byte* p = buffer)
        {
            // SAFETY: the pinned array is sized for the header plus entries.Length entries, the Nr written here.
            ((KvmIrqRoutingHeader*)p)->Nr = (uint)entries.Length;
            entries.CopyTo(new Span<KvmIrqRoutingEntry>(p + sizeof(KvmIrqRoutingHeader), entries.Length));
            Check(TrySetGsiRouting((KvmIrqRoutingHeader*)p), "KVM_SET_GSI_ROUTING");
        }
    }

    /// <summary>KVM_SET_GSI_ROUTING from a caller-owned table (header then <c>Nr</c> entries); 0 or -1 with errno set.</summary>
    internal unsafe int TrySetGsiRouting(KvmIrqRoutingHeader* routing) =>
        // SAFETY: the caller's buffer holds the header plus Nr entries and stays pinned for the call.
        LibcNative.Ioctl(_fd, KvmIoctls.SetGsiRouting, routing);

    /// <summary>KVM_IRQFD: from now on a write to <paramref name="eventFd"/> injects <paramref name="gsi"/>.</summary>
    internal unsafe void AssignIrqfd(EventFd eventFd, uint gsi)
    {
        // The lease keeps the eventfd's number that descriptor until KVM has taken its own reference in the call.
        using var lease = eventFd.Handle.Lease();
        var irqfd = new KvmIrqfd { Fd = (uint)lease.Fd, Gsi = gsi };
        // SAFETY: pointer to a local for the call's duration.
        Check(LibcNative.Ioctl(_fd, KvmIoctls.Irqfd, &irqfd), $"KVM_IRQFD (GSI {gsi})");
    }

    /// <summary>
    /// KVM_IOEVENTFD: a guest write of <paramref name="length"/> bytes (no data match) to MMIO <paramref name="address"/>
    /// signals <paramref name="eventFd"/> in the kernel instead of exiting to us; <paramref name="assign"/> false removes
    /// it. Returns 0 or the errno (EEXIST when another ioeventfd sits there already), so guest-driven moves never throw.
    /// </summary>
    internal unsafe int TrySetIoeventfd(EventFd eventFd, ulong address, uint length, bool assign)
    {
        // The lease keeps the eventfd's number that descriptor for the call (KVM looks it up while registering).
        using var lease = eventFd.Handle.Lease();
        var ioeventfd = new KvmIoeventfd
        {
            Addr = address,
            Len = length,
            Fd = lease.Fd,
            Flags = assign ? 0 : KvmIoeventfd.FlagDeassign,
        };
        // SAFETY: pointer to a local for the call's duration.
        return LibcNative.Ioctl(_fd, KvmIoctls.Ioeventfd, &ioeventfd) < 0 ? LibcNative.LastError : 0;
    }

    /// <summary>KVM_SIGNAL_MSI: delivers one MSI now. Returns &gt; 0 delivered, 0 blocked by the guest, &lt; 0 failed.</summary>
    internal unsafe int SignalMsi(ulong address, uint data)
    {
        var msi = new KvmMsi { AddressLo = (uint)address, AddressHi = (uint)(address >> 32), Data = data };
        // SAFETY: pointer to a local for the call's duration.
        return LibcNative.Ioctl(_fd, KvmIoctls.SignalMsi, &msi);
    }

    /// <summary>KVM_GET_DIRTY_LOG into a caller-owned bitmap (one bit per page of the slot).</summary>
    /// <param name="slotBytes">The slot's size: the bitmap must hold its pages rounded up to 64 bits, as KVM writes them.</param>
    public void GetDirtyLog(uint slot, ulong slotBytes, Span<ulong> bitmap)
    {
        int error = TryGetDirtyLog(slot, slotBytes, bitmap);
        if (error != 0)
        {
            throw new KvmException($"KVM_GET_DIRTY_LOG (slot {slot})", error);
        }
    }

    /// <summary>
    /// KVM_GET_DIRTY_LOG: copies the slot's log into <paramref name="bitmap"/> (bit n = page n written since the last
    /// call) and clears it. Returns 0 or the errno (ENOENT for a slot that does not exist or logs nothing);
    /// EINVAL without calling KVM when the bitmap is too small for <paramref name="slotBytes"/>.
    /// </summary>
    internal unsafe int TryGetDirtyLog(uint slot, ulong slotBytes, Span<ulong> bitmap)
    {
        ulong words = (slotBytes / PageSize + 63) / 64;
        if ((ulong)bitmap.Length < words)
        {
            return LibcNative.EINVAL;
        }

        fixed (ulong* p = bitmap)
        {
            var log = new KvmDirtyLog { Slot = slot, DirtyBitmap = (ulong)p };
            // SAFETY: the bitmap is pinned and holds at least the ALIGN(pages, 64) bits KVM writes (checked above).
            return LibcNative.Ioctl(_fd, KvmIoctls.GetDirtyLog, &log) < 0 ? LibcNative.LastError : 0;
        }
    }

    public KvmVcpu CreateVcpu(int id)
    {
        int fd = LibcNative.Ioctl(_fd, KvmIoctls.CreateVcpu, id);
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
