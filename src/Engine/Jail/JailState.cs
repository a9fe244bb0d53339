namespace Platform.Engine.Jail;

/// <summary>
/// What the rest of the engine needs to know about the jail: whether this process is in one (then no program may be
/// started: execve is not on the allowlist), and the VMM's pid as the
/// host sees it (inside its PID namespace it is 1).
/// </summary>
public static class JailState
{
    private static SeccompFilter? s_filter;

    /// <summary>True once the process filter is loaded.</summary>
    public static bool Active { get; private set; }

    /// <summary>The pid the host sees: what vmm.pid and the control socket's greeting say.</summary>
    public static int HostProcessId { get; internal set; } = Environment.ProcessId;

    internal static void Activate(SeccompFilter filter)
    {
        s_filter = filter;
        Active = true;
    }

    /// <summary>Throws what the jail means for starting a program, for the callers that would (passt).</summary>
    public static void ThrowIfProgramsForbidden(string program)
    {
        if (Active)
        {
            throw new IOException($"{program} cannot be started inside the jail (execve is not on its seccomp allowlist); it is started before the jail, at the VM's start");
        }
    }
}
