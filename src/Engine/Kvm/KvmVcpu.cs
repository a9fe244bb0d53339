using System.Runtime.InteropServices;
using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Kvm;

/// <summary>A vCPU file descriptor and its mmapped <c>kvm_run</c> page.</summary>
public sealed unsafe class KvmVcpu : IDisposable
{
    private readonly FileDescriptorHandle _fd;
    private readonly nint _runMapping;
    private readonly nuint _runSize;

    internal KvmVcpu(FileDescriptorHandle fd, int id, int mmapSize)
    {
        _fd = fd;
        Id = id;
        _runSize = (nuint)mmapSize;
        _runMapping = LibcNative.Mmap(0, _runSize, MemoryProtection.Read | MemoryProtection.Write, MapFlags.Shared, fd.Fd, 0);
        if (_runMapping == LibcNative.MapFailed)
        {
            int errno = LibcNative.LastError;
            fd.Dispose();
            throw new KvmException("mmap of kvm_run", errno);
        }
    }

    public int Id { get; }

    internal int Fd => _fd.Fd;

    /// <summary>The shared kvm_run page. SAFETY: valid until Dispose; only the vCPU's own thread reads exits.</summary>
    internal KvmRun* Run => (KvmRun*)_runMapping;

    /// <summary>The kvm_run mapping as bytes, for the port-I/O data that sits at <c>io.data_offset</c>.</summary>
    internal Span<byte> RunBytes => new((void*)_runMapping, (int)_runSize);

    /// <summary>KVM_RUN. Returns 0, or the errno (EINTR, EAGAIN) that the loop treats as an ordinary exit.</summary>
    internal int RunOnce()
    {
        int result = LibcNative.Ioctl(_fd.Fd, KvmIoctls.Run, 0);
        return result < 0 ? LibcNative.LastError : 0;
    }

    internal KvmRegs GetRegs()
    {
        KvmRegs regs;
        // SAFETY: pointer to a local the kernel fills.
        KvmVm.Check(LibcNative.Ioctl(_fd.Fd, KvmIoctls.GetRegs, &regs), "KVM_GET_REGS");
        return regs;
    }

    internal void SetRegs(in KvmRegs regs)
    {
        fixed (KvmRegs* p = &regs)
        {
            KvmVm.Check(LibcNative.Ioctl(_fd.Fd, KvmIoctls.SetRegs, p), "KVM_SET_REGS");
        }
    }

    internal KvmSregs GetSregs()
    {
        KvmSregs sregs;
        KvmVm.Check(LibcNative.Ioctl(_fd.Fd, KvmIoctls.GetSregs, &sregs), "KVM_GET_SREGS");
        return sregs;
    }

    internal void SetSregs(in KvmSregs sregs)
    {
        fixed (KvmSregs* p = &sregs)
        {
            KvmVm.Check(LibcNative.Ioctl(_fd.Fd, KvmIoctls.SetSregs, p), "KVM_SET_SREGS");
        }
    }

    internal void SetFpu(in KvmFpu fpu)
    {
        fixed (KvmFpu* p = &fpu)
        {
            KvmVm.Check(LibcNative.Ioctl(_fd.Fd, KvmIoctls.SetFpu, p), "KVM_SET_FPU");
        }
    }

    internal void SetCpuid(ReadOnlySpan<KvmCpuidEntry2> entries)
    {
        int size = sizeof(KvmCpuid2Header) + entries.Length * sizeof(KvmCpuidEntry2);
        byte* buffer = (byte*)NativeMemory.AllocZeroed((nuint)size);
        try
        {
            ((KvmCpuid2Header*)buffer)->Nent = (uint)entries.Length;
            entries.CopyTo(new Span<KvmCpuidEntry2>(buffer + sizeof(KvmCpuid2Header), entries.Length));
            // SAFETY: buffer holds the header and Nent entries.
            KvmVm.Check(LibcNative.Ioctl(_fd.Fd, KvmIoctls.SetCpuid2, buffer), "KVM_SET_CPUID2");
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }

    /// <summary>KVM_SET_MSRS; fails unless the kernel accepted every entry.</summary>
    internal void SetMsrs(ReadOnlySpan<KvmMsrEntry> entries)
    {
        int size = sizeof(KvmMsrsHeader) + entries.Length * sizeof(KvmMsrEntry);
        byte* buffer = stackalloc byte[size];
        ((KvmMsrsHeader*)buffer)->Nmsrs = (uint)entries.Length;
        ((KvmMsrsHeader*)buffer)->Pad = 0;
        entries.CopyTo(new Span<KvmMsrEntry>(buffer + sizeof(KvmMsrsHeader), entries.Length));
        // SAFETY: stack buffer sized for the header and entries.
        int written = LibcNative.Ioctl(_fd.Fd, KvmIoctls.SetMsrs, buffer);
        if (written < 0)
        {
            throw new KvmException("KVM_SET_MSRS", LibcNative.LastError);
        }

        if (written != entries.Length)
        {
            throw new KvmException($"KVM_SET_MSRS set {written} of {entries.Length} MSRs; MSR 0x{entries[written].Index:x} was refused.");
        }
    }

    internal KvmLapicState GetLapic()
    {
        KvmLapicState state;
        KvmVm.Check(LibcNative.Ioctl(_fd.Fd, KvmIoctls.GetLapic, &state), "KVM_GET_LAPIC");
        return state;
    }

    internal void SetLapic(in KvmLapicState state)
    {
        fixed (KvmLapicState* p = &state)
        {
            KvmVm.Check(LibcNative.Ioctl(_fd.Fd, KvmIoctls.SetLapic, p), "KVM_SET_LAPIC");
        }
    }

    internal void SetMpState(uint state)
    {
        KvmVm.Check(LibcNative.Ioctl(_fd.Fd, KvmIoctls.SetMpState, &state), "KVM_SET_MP_STATE");
    }

    /// <summary>
    /// KVM_SET_SIGNAL_MASK: the signal mask in force while this vCPU runs guest code. The vCPU thread blocks the kick
    /// signal; this mask unblocks it inside KVM_RUN only, so a kick interrupts the guest and then stays pending
    /// (never delivered to a handler) until the loop consumes it.
    /// </summary>
    internal void SetSignalMask(ulong mask)
    {
        byte* buffer = stackalloc byte[4 + 8];
        *(uint*)buffer = 8; // the kernel's sigset_t is 8 bytes on x86-64
        *(ulong*)(buffer + 4) = mask;
        KvmVm.Check(LibcNative.Ioctl(_fd.Fd, KvmIoctls.SetSignalMask, buffer), "KVM_SET_SIGNAL_MASK");
    }

    public void Dispose()
    {
        LibcNative.Munmap(_runMapping, _runSize);
        _fd.Dispose();
    }
}
