using Platform.Engine.Kvm;
using Platform.Engine.Kvm.Interop;
using Platform.Engine.Machine;

namespace Platform.Engine.Vcpu;

/// <summary>
/// One vCPU's thread: KVM_RUN in a loop, each exit dispatched by <see cref="ExitHandler"/>. Pause and stop arrive as
/// flags plus a kick; the loop checks them after every interrupted run.
/// </summary>
internal sealed class VcpuRunner
{
    private readonly KvmVcpu _vcpu;
    private readonly IoBus _ports;
    private readonly IoBus _mmio;
    private readonly IVcpuController _controller;
    private readonly Thread _thread;
    private volatile int _threadId;
    private volatile int _lastThreadId;
    private long _exits;

    public VcpuRunner(KvmVcpu vcpu, IoBus ports, IoBus mmio, IVcpuController controller)
    {
        _vcpu = vcpu;
        _ports = ports;
        _mmio = mmio;
        _controller = controller;
        _thread = new Thread(Loop) { Name = $"vcpu{vcpu.Id}", IsBackground = true };
    }

    public int Id => _vcpu.Id;

    /// <summary>Exits handled in user space (not counting interrupted runs).</summary>
    public long Exits => Interlocked.Read(ref _exits);

    /// <summary>The OS thread id while the loop runs or after it ended (0 before it started); for /proc CPU time.</summary>
    public int ThreadId => _lastThreadId;

    public void Start() => _thread.Start();

    /// <summary>Waits for the thread to end; true at once for a runner that never started (a machine built but not booted).</summary>
    public bool Join(TimeSpan timeout) => (_thread.ThreadState & ThreadState.Unstarted) != 0 || _thread.Join(timeout);

    /// <summary>Makes the thread leave KVM_RUN soon (now, if it is in the guest).</summary>
    public void Kick()
    {
        _vcpu.RequestImmediateExit(); // false: the vCPU is gone, and so is its thread
        int tid = _threadId;
        if (tid != 0)
        {
            VcpuKick.Send(tid);
        }
    }

    /// <summary>" at CS:IP (linear address)" of a vCPU that died, for the message that says why; empty if KVM will not say.</summary>
    private string WhereStopped()
    {
        try
        {
            var regs = _vcpu.GetRegs();
            var sregs = _vcpu.GetSregs();
            return $" at {sregs.Cs.Selector:x4}:{regs.Rip:x} (address 0x{sregs.Cs.Base + regs.Rip:x}, CR0 0x{sregs.Cr0:x})";
        }
        catch (KvmException)
        {
            return "";
        }
    }

    private unsafe void Loop()
    {
        try
        {
            _vcpu.SetSignalMask(VcpuKick.BlockOnCurrentThread());
            _threadId = LibcNative.GetTid();
            _lastThreadId = _threadId;
            // SAFETY: the kvm_run page stays mapped while this loop runs: the machine joins this thread before it
            // disposes the vCPU, and only this thread reads exits from it (other threads go through
            // KvmVcpu.RequestImmediateExit, which pins the page).
            var run = _vcpu.Run;
            var page = _vcpu.RunBytes;
            while (_controller.WaitUntilRunnable(this))
            {
                int errno = _vcpu.RunOnce();
                if (errno != 0)
                {
                    if (errno is LibcNative.EINTR or LibcNative.EAGAIN)
                    {
                        VcpuKick.Drain();
                        Volatile.Write(ref run->ImmediateExit, 0);
                        continue;
                    }

                    throw new KvmException($"KVM_RUN on vCPU {Id}", errno);
                }

                Interlocked.Increment(ref _exits);
                var action = ExitHandler.Handle(run, page, _ports, _mmio, out string? detail);
                if (action is ExitAction.Continue or ExitAction.Interrupted)
                {
                    continue;
                }

                if (action == ExitAction.Fatal)
                {
                    detail = $"{detail}{WhereStopped()}";
                }

                _controller.OnGuestExit(this, action, detail);
                break;
            }
        }
        catch (Exception ex) when (ex is KvmException or InvalidOperationException)
        {
            _controller.OnGuestExit(this, ExitAction.Fatal, ex.Message);
        }
        finally
        {
            _threadId = 0;
        }
    }
}

/// <summary>What a vCPU thread asks of the machine that owns it.</summary>
internal interface IVcpuController
{
    /// <summary>Blocks while the machine is paused; false when the vCPU should stop.</summary>
    bool WaitUntilRunnable(VcpuRunner vcpu);

    /// <summary>The guest reset, powered off or died on this vCPU.</summary>
    void OnGuestExit(VcpuRunner vcpu, ExitAction action, string? detail);
}
