namespace Platform.Engine.Jail;

/// <summary>
/// The jailed VMM's seccomp filter, built with libseccomp: one for the whole process, loaded with TSYNC, so every
/// thread the runtime already has gets it (and no_new_privs with it); threads made later inherit it. Anything else kills the process (SCMP_ACT_KILL_PROCESS); the kernel's audit line names the call, and
/// the jail's keeper copies it into vmm.log (<see cref="JailKeeper"/>).
/// </summary>
internal sealed unsafe class SeccompFilter : IDisposable
{
    private const ulong CloneThread = 0x00010000;
    private const int ENOSYS = 38;

    private readonly nint _process;
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
    }

    /// <summary>Loads the process filter on every thread (TSYNC); no_new_privs comes with it.</summary>
    public void LoadForProcess()
    {
        lock (_loadLock)
        {
            Require(SeccompNative.Load(_process), "loading the process filter");
        }
    }

    public void Dispose()
    {
        SeccompNative.Release(_process);
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
