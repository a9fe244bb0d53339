using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Jail;

/// <summary>
/// What the jail tests use to show it holds: with <c>PLATFORM_VMM_JAIL_SELFTEST</c> set, a jailed VMM does, right
/// after entering the jail, on a thread of its own as a compromised device model would, what the jail must stop:
/// <c>ptrace</c> or <c>execve</c>, which the filter kills it for, or <c>open-shadow</c>, opening /etc/shadow, which
/// the jail's root does not have (open is on the allowlist: a reboot opens the VM's files again), so it fails and the
/// VMM says with which errno. It can only get the VMM killed, so it needs no special build; an unjailed VMM ignores it.
/// <c>WHAT,delay=MS</c> makes the attempt that long later, while the VMM runs its guest and serves its sockets (as a
/// device model a guest reaches at run time would), so a supervisor sees a running VM die of it.
/// </summary>
public static class JailSelfTest
{
    public const string Variable = "PLATFORM_VMM_JAIL_SELFTEST";

    public static void RunIfAsked(TextWriter log)
    {
        if (!JailState.Active || Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 } value)
        {
            return;
        }

        string[] parts = value.Split(',', 2);
        string what = parts[0];
        int delayMs = parts.Length == 2 && parts[1].StartsWith("delay=", StringComparison.Ordinal)
            && int.TryParse(parts[1]["delay=".Length..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int ms)
            ? ms
            : 0;
        var thread = new Thread(() =>
        {
            Thread.Sleep(delayMs);
            log.WriteLine($"platform-vmm: jail self-test: trying {what}");
            log.Flush();
            Attempt(what);
            log.WriteLine($"platform-vmm: jail self-test: {what} was not killed by the jail");
            log.Flush();
        }) { Name = "jail-selftest", IsBackground = true };
        thread.Start();
        if (delayMs == 0)
        {
            thread.Join(); // before the VMM announces itself: it never comes up
        }
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
