using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Jail;

/// <summary>
/// What the jail tests use to show it holds: with <c>PLATFORM_VMM_JAIL_SELFTEST</c> set, a jailed VMM does, right
/// after entering the jail, on a thread of its own as a compromised device model would, what the jail must stop:
/// <c>ptrace</c> or <c>execve</c>, which the filter kills it for, or <c>open-shadow</c>, opening /etc/shadow, which
/// the jail's root does not have (open is on the allowlist: a reboot opens the VM's files again), so it fails and the
/// VMM says with which errno. It can only get the VMM killed, so it needs no special build; an unjailed VMM ignores it.
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
        log.WriteLine($"platform-vmm: jail self-test: {what} was not killed by the jail");
    }

    private static unsafe void Attempt(string what)
    {
        switch (what)
        {
            case "open-shadow":
                int fd = LibcNative.OpenRaw("/etc/shadow", 0);
                Console.Error.WriteLine(fd < 0
                    ? $"platform-vmm: jail self-test: open-shadow: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}"
                    : "platform-vmm: jail self-test: open-shadow: opened");
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
