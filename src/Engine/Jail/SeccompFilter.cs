namespace Platform.Engine.Jail;

/// <summary>Which allowlist a thread runs under (<see cref="SyscallLists"/>).</summary>
public enum ThreadKind
{
    /// <summary>A vCPU thread: KVM_RUN and the register handlers of the devices.</summary>
    Vcpu,

    /// <summary>The device I/O thread: virtio queues, disk I/O, TAP and passt frames.</summary>
    DeviceIo,
}

/// <summary>
/// The jailed VMM's seccomp filters, built with libseccomp: one for the whole process (loaded with TSYNC, so every
/// thread the runtime already has gets it, and no_new_privs with it), and per thread kind one more that takes calls
/// away again. Anything else kills the process (SCMP_ACT_KILL_PROCESS); the kernel's audit line names the call, and
/// the jail's keeper copies it into vmm.log (<see cref="JailKeeper"/>).
/// </summary>
internal sealed unsafe class SeccompFilter : IDisposable
{
    private const ulong CloneThread = 0x00010000;
    private const int ENOSYS = 38;

    private readonly nint _process;
    private readonly Dictionary<ThreadKind, nint> _threads = [];
    private readonly Lock _loadLock = new();

    /// <param name="logOnly">Log what would be killed and let it run (SCMP_ACT_LOG): for building the lists.</param>
    public SeccompFilter(bool logOnly)
    {
        uint refuse = logOnly ? SeccompNative.ActLog : SeccompNative.ActKillProcess;
        _process = Create(refuse);
        Require(SeccompNative.AttrSet(_process, SeccompNative.AttrThreadSync, 1), "setting TSYNC");
        Require(SeccompNative.AttrSet(_process, SeccompNative.AttrNoNewPrivs, 1), "setting no_new_privs");
        foreach (string name in SyscallLists.Process)
        {
            Allow(_process, name);
        }

        foreach (int option in SyscallLists.PrctlOptions)
        {
            Allow(_process, "prctl", new SeccompNative.ArgCompare { Argument = 0, Operator = SeccompNative.CompareEqual, DatumA = (ulong)option });
        }

        // Threads, never processes: clone only with CLONE_THREAD. clone3 passes its flags in memory, out of a filter's
        // reach, so it fails with ENOSYS and glibc falls back to clone (what Docker's and Chrome's filters do).
        Allow(_process, "clone", new SeccompNative.ArgCompare
        {
            Argument = 0, Operator = SeccompNative.CompareMaskedEqual, DatumA = CloneThread, DatumB = CloneThread,
        });
        Rule(_process, SeccompNative.ActErrno(ENOSYS), "clone3");

        _threads[ThreadKind.Vcpu] = Narrower(SyscallLists.VcpuDenied, refuse);
        _threads[ThreadKind.DeviceIo] = Narrower(SyscallLists.DeviceIoDenied, refuse);
    }

    /// <summary>Loads the process filter on every thread (TSYNC); no_new_privs comes with it.</summary>
    public void LoadForProcess()
    {
        lock (_loadLock)
        {
            Require(SeccompNative.Load(_process), "loading the process filter");
        }
    }

    /// <summary>Adds <paramref name="kind"/>'s narrower filter to the calling thread only.</summary>
    public void LoadForCurrentThread(ThreadKind kind)
    {
        lock (_loadLock)
        {
            Require(SeccompNative.Load(_threads[kind]), $"loading the {kind} thread filter");
        }
    }

    public void Dispose()
    {
        SeccompNative.Release(_process);
        foreach (var context in _threads.Values)
        {
            SeccompNative.Release(context);
        }
    }

    private static nint Narrower(string[] denied, uint refuse)
    {
        nint context = Create(SeccompNative.ActAllow);
        foreach (string name in denied)
        {
            Rule(context, refuse, name);
        }

        return context;
    }

    private static nint Create(uint defaultAction)
    {
        nint context = SeccompNative.Init(defaultAction);
        return context != 0 ? context : throw new JailException("libseccomp could not create a filter (seccomp_init failed).");
    }

    private static void Allow(nint context, string name, params SeccompNative.ArgCompare[] conditions) =>
        Rule(context, SeccompNative.ActAllow, name, conditions);

    private static void Rule(nint context, uint action, string name, params SeccompNative.ArgCompare[] conditions)
    {
        int number = SeccompNative.ResolveName(name);
        if (number < 0)
        {
            return; // not a call on this architecture (open and stat exist on x86-64 only, say)
        }

        fixed (SeccompNative.ArgCompare* arguments = conditions)
        {
            Require(SeccompNative.RuleAddArray(context, action, number, (uint)conditions.Length, arguments), $"adding the rule for {name}");
        }
    }

    private static void Require(int result, string what)
    {
        if (result < 0)
        {
            throw new JailException($"libseccomp failed {what}: errno {-result}.");
        }
    }
}

/// <summary>The jail could not be set up; the message says which step and why. The VMM does not start unjailed.</summary>
public sealed class JailException(string message) : Exception(message);
