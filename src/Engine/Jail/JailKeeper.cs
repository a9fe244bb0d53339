using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Platform.Engine.Host;
using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Jail;

/// <summary>
/// The process the dashboard (or a user) starts when the VMM is jailed: it makes new mount, PID, IPC and UTS
/// namespaces for its main thread, starts platform-vmm again inside them (as their pid 1, so the VMM's own threads
/// are all inside), and then only waits: it passes SIGTERM, SIGINT and SIGHUP on, and ends as
/// the VMM ended — with its exit code, or killed by the same signal. A VMM killed by seccomp (SIGSYS) is reported in
/// vmm.log with the syscall's name, read from the kernel's audit line. A PID namespace can only be entered by a new
/// process, which is why the keeper exists (Firecracker's jailer forks for --new-pid-ns too).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public static class JailKeeper
{
    /// <summary>The jail's root is mounted on "RUNTIME/.jail-KEEPERPID" (an empty folder outside the jail).</summary>
    public const string RootPrefix = ".jail-";

    /// <summary>
    /// Whether the command line alone asks for the jail: not <c>--no-jail</c>, <c>--check</c> or <c>--help</c>, and
    /// <c>--jail</c> or started as root. The keeper decides on this before anything else, so the configuration is
    /// read, checked and built once, by the jailed VMM, while the keeper only makes the namespaces and starts it.
    /// </summary>
    public static bool Wanted(string[] arguments, bool startedAsRoot)
    {
        bool jail = startedAsRoot;
        foreach (string argument in arguments)
        {
            switch (argument)
            {
                case "--no-jail" or "--check" or "--help" or "-h":
                    return false;
                case "--jail":
                    jail = true;
                    break;
            }
        }

        return jail;
    }

    /// <summary>The folder the jail's root is mounted on: one per keeper (<paramref name="keeperPid"/>), in the runtime folder or /tmp.</summary>
    public static string RootFolder(string? runtimeDirectory, int keeperPid) =>
        Path.Combine(runtimeDirectory ?? Path.GetTempPath(), string.Create(CultureInfo.InvariantCulture, $"{RootPrefix}{keeperPid}"));

    /// <summary>
    /// Runs the jailed VMM with <paramref name="arguments"/> and returns its exit code (or re-raises its signal).
    /// <paramref name="runtimeDirectory"/> is asked only once the VMM ended, for the root folder to remove: the VMM
    /// reads the configuration, makes the folder and removes stale ones (<see cref="VmmJail.Enter"/>).
    /// </summary>
    public static int Run(string[] arguments, Func<string?> runtimeDirectory, TextWriter log)
    {
        string program = Environment.ProcessPath ?? throw new JailException("The VMM cannot find its own program file.");
        // Registered before unshare: a thread whose PID namespace for children is new may not create threads, and the
        // runtime's signal handling starts one on first use.
        int child = 0;
        void Forward(PosixSignalContext context)
        {
            context.Cancel = true;
            if (Volatile.Read(ref child) is > 0 and int pid)
            {
                LibcNative.Kill(pid, context.Signal switch
                {
                    PosixSignal.SIGINT => 2,
                    PosixSignal.SIGHUP => 1,
                    _ => LibcNative.SigTerm,
                });
            }
        }

        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Forward);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Forward);
        using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Forward);
        // The VMM's pivot_root moves the root of every thread in its mount namespace, the keeper's too: the host's root
        // is kept as a descriptor, and the keeper goes back to it once the VMM ended (its root folder, /dev/kmsg and
        // libseccomp for the audit line are the host's). A descriptor, not a thread kept in the host's namespace: a thread
        // start is milliseconds on a busy host, and it would be on the path to the guest's first instruction.
        int hostRoot = LibcNative.OpenRaw("/", LibcNative.OPath | LibcNative.ODirectory | LibcNative.OCloexec);
        if (hostRoot < 0)
        {
            throw new JailException($"Cannot open the host's root folder: errno {Marshal.GetLastPInvokeError()}");
        }

        StartupTrace.Mark("keeper: ready to unshare");
        int status;
        try
        {
            if (LibcNative.Unshare(LibcNative.CloneNewNs | LibcNative.CloneNewPid | LibcNative.CloneNewIpc | LibcNative.CloneNewUts) != 0)
            {
                throw new JailException($"The jail needs new namespaces (unshare failed: errno {Marshal.GetLastPInvokeError()}); run as root, or with --no-jail.");
            }

            StartupTrace.Mark("keeper: unshared");
            int pid = Spawn(program, arguments);
            StartupTrace.Mark("keeper: spawned");
            Volatile.Write(ref child, pid);
            status = Wait(pid);
        }
        finally
        {
            ReturnToHostRoot(hostRoot);
            // Through a descriptor of the runtime folder: the VM's uid owns it and may have put a link in the root's place.
            JailFolder.RemoveRoot(RootFolder(runtimeDirectory(), Environment.ProcessId), log);
        }

        int vmm = Volatile.Read(ref child);
        string? seccompReason = (status & 0x7F) == LibcNative.SigSys ? SeccompAudit.Describe(vmm) : null;
        return EndAsTheVmmEnded(status, vmm, seccompReason, log);
    }

    /// <summary>Makes the host's root (a descriptor opened before unshare) this thread's root and working folder again.</summary>
    private static void ReturnToHostRoot(int hostRoot)
    {
        if (LibcNative.Fchdir(hostRoot) != 0 || LibcNative.Chroot(".") != 0)
        {
            throw new JailException($"The keeper cannot return to the host's root: errno {Marshal.GetLastPInvokeError()}");
        }

        LibcNative.Close(hostRoot);
    }

    /// <summary>
    /// Starts <paramref name="program"/> again with the keeper's arguments and environment plus
    /// <see cref="VmmJail.ChildVariable"/> (the keeper's pid), added to the C library's environment with setenv and
    /// passed as its <c>environ</c>: no managed copy of the environment (a randomised hash table) on the start's path.
    /// </summary>
    private static unsafe int Spawn(string program, string[] arguments)
    {
        if (LibcNative.SetEnv(VmmJail.ChildVariable, Environment.ProcessId.ToString(CultureInfo.InvariantCulture), 1) != 0)
        {
            throw new JailException($"setenv failed: errno {Marshal.GetLastPInvokeError()}");
        }

        byte** environment = *(byte***)NativeLibrary.GetExport(NativeLibrary.GetMainProgramHandle(), "environ");
        var strings = new byte[arguments.Length + 1][];
        strings[0] = Utf8(program);
        for (int i = 0; i < arguments.Length; i++)
        {
            strings[i + 1] = Utf8(arguments[i]);
        }

        var pins = new GCHandle[strings.Length];
        byte** argv = stackalloc byte*[strings.Length + 1];
        try
        {
            for (int i = 0; i < strings.Length; i++)
            {
                pins[i] = GCHandle.Alloc(strings[i], GCHandleType.Pinned);
                argv[i] = (byte*)pins[i].AddrOfPinnedObject();
            }

            argv[strings.Length] = null;
            int pid;
            // SAFETY: argv is a NULL-terminated array of pinned NUL-terminated strings, alive for the call; environ is
            // the C library's own, NULL-terminated. posix_spawn clones this (the main) thread, whose namespaces unshare
            // changed: the VMM starts inside them.
            int error = LibcNative.PosixSpawn(&pid, argv[0], null, null, argv, environment);
            if (error != 0)
            {
                throw new JailException($"Cannot start the jailed VMM: errno {error}");
            }

            return pid;
        }
        finally
        {
            foreach (var pin in pins)
            {
                if (pin.IsAllocated)
                {
                    pin.Free();
                }
            }
        }
    }

    /// <summary>Waits for the VMM on this (the spawning) thread, which must outlive it: its death is the VMM's PR_SET_PDEATHSIG.</summary>
    private static unsafe int Wait(int pid)
    {
        int status;
        while (true)
        {
            // SAFETY: status is a local waitpid writes.
            int result = LibcNative.WaitPid(pid, &status, 0);
            if (result == pid)
            {
                break;
            }

            if (result < 0 && Marshal.GetLastPInvokeError() != LibcNative.EINTR)
            {
                throw new JailException($"Lost the jailed VMM (waitpid: errno {Marshal.GetLastPInvokeError()}).");
            }
        }

        return status;
    }

    /// <summary>The VMM's exit code, or its death by a signal (said in the log, then raised on the keeper itself).</summary>
    private static int EndAsTheVmmEnded(int status, int pid, string? seccompReason, TextWriter log)
    {
        if ((status & 0x7F) == 0)
        {
            return (status >> 8) & 0xFF;
        }

        int signal = status & 0x7F;
        if (signal == LibcNative.SigSys)
        {
            log.WriteLine($"platform-vmm: the jailed VMM (pid {pid}) was killed by seccomp (SIGSYS): {seccompReason}");
        }
        else
        {
            log.WriteLine($"platform-vmm: the jailed VMM (pid {pid}) was killed by signal {signal}");
        }

        log.Flush();
        // End as it ended, so whoever waits for this process (the dashboard) sees the same signal. No core file.
        _ = LibcNative.Prctl(LibcNative.PrSetDumpable, 0, 0, 0, 0);
        _ = LibcNative.Signal(signal, 0);
        LibcNative.Kill(LibcNative.GetPid(), signal);
        Thread.Sleep(1000);
        return 128 + signal;
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text + "\0");
}
