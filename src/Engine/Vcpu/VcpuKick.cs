using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Vcpu;

/// <summary>
/// Getting a vCPU thread out of KVM_RUN. The thread blocks <see cref="Signal"/> for itself and hands KVM a signal mask
/// without it, so the signal is deliverable only while the guest runs: it makes KVM_RUN return EINTR and then stays
/// pending, blocked, until the loop consumes it with sigtimedwait. No handler runs, so no managed code ever executes
/// in signal context. <c>immediate_exit</c> covers a kick that lands just before KVM_RUN is entered.
/// </summary>
/// <remarks>
/// Signal 40 (glibc's SIGRTMIN + 6): the .NET runtime uses SIGRTMIN itself for thread activation, and that signal
/// too makes KVM_RUN return EINTR, which the loop treats as an ordinary exit.
/// </remarks>
internal static class VcpuKick
{
    public const int Signal = 40;
    private const ulong SignalBit = 1ul << (Signal - 1);

    /// <summary>Blocks the kick signal on the calling thread; returns the mask KVM should use while the guest runs.</summary>
    public static unsafe ulong BlockOnCurrentThread()
    {
        ulong set = SignalBit, old = 0;
        // SAFETY: pointers to two 8-byte locals (the kernel's sigset_t on x86-64) for the call's duration.
        int error = LibcNative.PthreadSigmask(LibcNative.SigBlock, &set, &old);
        return error == 0 ? old & ~SignalBit : throw new Kvm.KvmException("pthread_sigmask", error);
    }

    public static void Send(int threadId) =>
        _ = LibcNative.Syscall3(LibcNative.SysTgkill, LibcNative.GetPid(), threadId, Signal); // ESRCH: it already left

    /// <summary>Consumes any pending kick so the next KVM_RUN does not return at once.</summary>
    public static unsafe void Drain()
    {
        ulong set = SignalBit;
        var zero = new LibcNative.Timespec();
        // SAFETY: pointers to locals (an 8-byte sigset, a timespec) for each call's duration; no siginfo is asked for.
        while (LibcNative.Sigtimedwait(&set, null, &zero) == Signal)
        {
        }
    }
}
