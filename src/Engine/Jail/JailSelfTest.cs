using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Jail;

/// <summary>
/// What the jail tests use to show it holds: with <c>PLATFORM_VMM_JAIL_SELFTEST</c> set, a jailed VMM does, right
/// after entering the jail and on a thread of the kind a compromised device model would run on, what its filter must
/// kill it for: <c>open-shadow</c> (opening /etc/shadow on a vCPU thread, where no file may be opened), <c>ptrace</c>
/// or <c>execve</c> (allowed on no thread). It can only get the VMM killed, so it needs no special build; an unjailed
/// VMM ignores it.
/// </summary>
public static class JailSelfTest
{
    public const string Variable = "PLATFORM_VMM_JAIL_SELFTEST";

    public static void RunIfAsked(TextWriter log)
    {
        if (!JailState.Active || Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 } what)
        {
            return;
        }

        log.WriteLine($"platform-vmm: jail self-test: trying {what}");
        log.Flush();
        var thread = new Thread(() => Attempt(what)) { Name = "jail-selftest" };
        thread.Start();
        thread.Join();
        log.WriteLine($"platform-vmm: jail self-test: {what} was not stopped by the jail");
    }

    private static unsafe void Attempt(string what)
    {
        JailState.EnterThread(ThreadKind.Vcpu);
        switch (what)
        {
            case "open-shadow":
                _ = LibcNative.OpenRaw("/etc/shadow", 0);
                break;
            case "ptrace":
                _ = LibcNative.Ptrace(0x10 /* PTRACE_ATTACH */, 1, 0, 0);
                break;
            case "execve":
                byte[] path = "/bin/sh\0"u8.ToArray();
                fixed (byte* p = path)
                {
                    byte** argv = stackalloc byte*[2];
                    argv[0] = p;
                    argv[1] = null;
                    byte** envp = stackalloc byte*[1];
                    envp[0] = null;
                    // SAFETY: path is pinned and argv/envp are NULL-terminated stack arrays, alive for the call.
                    _ = LibcNative.Execve(p, argv, envp);
                }

                break;
        }
    }
}
