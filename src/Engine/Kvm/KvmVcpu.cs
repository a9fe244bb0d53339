using System.Runtime.InteropServices;
using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Kvm;

/// <summary>A vCPU file descriptor and its mmapped <c>kvm_run</c> page.</summary>
public sealed class KvmVcpu : IDisposable
{
    private readonly FileDescriptorHandle _fd;
    private readonly MappedRegion _run;

    internal KvmVcpu(FileDescriptorHandle fd, int id, int mmapSize)
    {
        _fd = fd;
        Id = id;
        try
        {
            _run = MappedRegion.MapShared(fd, (nuint)mmapSize, "kvm_run");
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    public int Id { get; }

    /// <summary>
    /// The shared kvm_run page, for the vCPU's own thread, which reads exits from it until its loop ends; the machine
    /// joins that thread before it disposes the vCPU. Other threads use <see cref="RequestImmediateExit"/>.
    /// </summary>
    internal unsafe KvmRun* Run
    {
        get
        {
            // SAFETY: the mapping is KVM_GET_VCPU_MMAP_SIZE bytes, at least a page and so more than KvmRun's header,
            // and stays mapped until Dispose, which comes after the only thread that holds this pointer has ended.
            return (KvmRun*)_run.Address;
        }
    }

    /// <summary>The kvm_run mapping as bytes, for the port-I/O data that sits at <c>io.data_offset</c>.</summary>
    internal Span<byte> RunBytes => _run.AsSpan();

    /// <summary>
    /// Sets kvm_run's <c>immediate_exit</c> from any thread (a kick), holding the mapping for the write so a vCPU
    /// disposed meanwhile is never written after its page is unmapped. False when the vCPU is already disposed.
    /// </summary>
    internal unsafe bool RequestImmediateExit()
    {
        byte* page;
        try
        {
            page = _run.Pin(0);
        }
        catch (ObjectDisposedException)
        {
            return false;
        }

        try
        {
            // SAFETY: the pin keeps the page mapped until Unpin below, and the page is larger than KvmRun's header.
            Volatile.Write(ref ((KvmRun*)page)->ImmediateExit, 1);
            return true;
        }
        finally
        {
            _run.Unpin();
        }
    }

    /// <summary>KVM_RUN. Returns 0, or the errno (EINTR, EAGAIN) that the loop treats as an ordinary exit.</summary>
    internal int RunOnce()
    {
        int result = LibcNative.Ioctl(_fd, KvmIoctls.Run, 0);
        return result < 0 ? LibcNative.LastError : 0;
    }

    internal unsafe KvmRegs GetRegs()
    {
        KvmRegs regs;
        // SAFETY: pointer to a local the kernel fills during the call (KVM_GET_REGS writes sizeof(KvmRegs), the size in the ioctl number).
        KvmVm.Check(LibcNative.Ioctl(_fd, KvmIoctls.GetRegs, &regs), "KVM_GET_REGS");
        return regs;
    }

    internal unsafe void SetRegs(in KvmRegs regs)
    {
        fixed (KvmRegs* p = &regs)
        {
            // SAFETY: the caller's struct is pinned for the call; the kernel reads sizeof(KvmRegs), the size in the ioctl number.
            KvmVm.Check(LibcNative.Ioctl(_fd, KvmIoctls.SetRegs, p), "KVM_SET_REGS");
        }
    }

    internal unsafe KvmSregs GetSregs()
    {
        KvmSregs sregs;
        // SAFETY: pointer to a local the kernel fills during the call (sizeof(KvmSregs), the size in the ioctl number).
        KvmVm.Check(LibcNative.Ioctl(_fd, KvmIoctls.GetSregs, &sregs), "KVM_GET_SREGS");
        return sregs;
    }

    internal unsafe void SetSregs(in KvmSregs sregs)
    {
        fixed (KvmSregs* p = &sregs)
        {
            // SAFETY: the caller's struct is pinned for the call; the kernel reads sizeof(KvmSregs), the size in the ioctl number.
            KvmVm.Check(LibcNative.Ioctl(_fd, KvmIoctls.SetSregs, p), "KVM_SET_SREGS");
        }
    }

    internal unsafe void SetFpu(in KvmFpu fpu)
    {
        fixed (KvmFpu* p = &fpu)
        {
            // SAFETY: the caller's struct is pinned for the call; the kernel reads sizeof(KvmFpu), the size in the ioctl number.
            KvmVm.Check(LibcNative.Ioctl(_fd, KvmIoctls.SetFpu, p), "KVM_SET_FPU");
        }
    }

    internal unsafe void SetCpuid(ReadOnlySpan<KvmCpuidEntry2> entries)
    {
        int size = sizeof(KvmCpuid2Header) + entries.Length * sizeof(KvmCpuidEntry2);
        byte* buffer = (byte*)NativeMemory.AllocZeroed((nuint)size);
        try
        {
            // SAFETY: buffer is `size` bytes, the header plus entries.Length entries, freed only in the finally below.
            ((KvmCpuid2Header*)buffer)->Nent = (uint)entries.Length;
            entries.CopyTo(new Span<KvmCpuidEntry2>(buffer + sizeof(KvmCpuid2Header), entries.Length));
            // SAFETY: buffer holds the header and Nent entries.
            KvmVm.Check(LibcNative.Ioctl(_fd, KvmIoctls.SetCpuid2, buffer), "KVM_SET_CPUID2");
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }

    /// <summary>KVM_SET_MSRS; fails unless the kernel accepted every entry.</summary>
    internal unsafe void SetMsrs(ReadOnlySpan<KvmMsrEntry> entries)
    {
        int size = sizeof(KvmMsrsHeader) + entries.Length * sizeof(KvmMsrEntry);
        byte* buffer = stackalloc byte[size];
        // SAFETY: the stack buffer is `size` bytes, the header plus entries.Length entries, and lives for this call.
        ((KvmMsrsHeader*)buffer)->Nmsrs = (uint)entries.Length;
        ((KvmMsrsHeader*)buffer)->Pad = 0;
        entries.CopyTo(new Span<KvmMsrEntry>(buffer + sizeof(KvmMsrsHeader), entries.Length));
        // SAFETY: stack buffer sized for the header and entries.
        int written = LibcNative.Ioctl(_fd, KvmIoctls.SetMsrs, buffer);
        if (written < 0)
        {
            throw new KvmException("KVM_SET_MSRS", LibcNative.LastError);
        }

        if (written != entries.Length)
        {
            throw new KvmException($"KVM_SET_MSRS set {written} of {entries.Length} MSRs; MSR 0x{entries[written].Index:x} was refused.");
        }
    }

    internal unsafe KvmLapicState GetLapic()
    {
        KvmLapicState state;
        // SAFETY: pointer to a local the kernel fills during the call (sizeof(KvmLapicState), the size in the ioctl number).
        KvmVm.Check(LibcNative.Ioctl(_fd, KvmIoctls.GetLapic, &state), "KVM_GET_LAPIC");
        return state;
    }

    internal unsafe void SetLapic(in KvmLapicState state)
    {
        fixed (KvmLapicState* p = &state)
        {
            // SAFETY: the caller's struct is pinned for the call; the kernel reads sizeof(KvmLapicState), the size in the ioctl number.
            KvmVm.Check(LibcNative.Ioctl(_fd, KvmIoctls.SetLapic, p), "KVM_SET_LAPIC");
        }
    }

    internal unsafe void SetMpState(uint state)
    {
        // SAFETY: pointer to a 4-byte local (struct kvm_mp_state) that the kernel reads during the call.
        KvmVm.Check(LibcNative.Ioctl(_fd, KvmIoctls.SetMpState, &state), "KVM_SET_MP_STATE");
    }

    /// <summary>
    /// KVM_SET_SIGNAL_MASK: the signal mask in force while this vCPU runs guest code. The vCPU thread blocks the kick
    /// signal; this mask unblocks it inside KVM_RUN only, so a kick interrupts the guest and then stays pending
    /// (never delivered to a handler) until the loop consumes it.
    /// </summary>
    internal unsafe void SetSignalMask(ulong mask)
    {
        byte* buffer = stackalloc byte[4 + 8];
        // SAFETY: a 12-byte stack buffer: struct kvm_signal_mask's 4-byte length and the 8 bytes it announces.
        *(uint*)buffer = 8; // the kernel's sigset_t is 8 bytes on x86-64
        *(ulong*)(buffer + 4) = mask;
        KvmVm.Check(LibcNative.Ioctl(_fd, KvmIoctls.SetSignalMask, buffer), "KVM_SET_SIGNAL_MASK");
    }

    public void Dispose()
    {
        _run.Dispose();
        _fd.Dispose();
    }
}
