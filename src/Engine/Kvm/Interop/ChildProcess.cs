using System.Text;

namespace Platform.Engine.Kvm.Interop;

/// <summary>
/// A helper program the VMM starts and owns (passt): posix_spawn with chosen descriptors passed on, stdin on
/// /dev/null, every signal at its default and none blocked (the VMM's vCPU threads block some, and a child inherits
/// the spawning thread's mask), and an empty environment. Disposing ends it (SIGTERM, then SIGKILL) and reaps it.
/// </summary>
/// <remarks>
/// posix_spawn rather than <see cref="System.Diagnostics.Process"/>: Process cannot pass a descriptor other than the
/// three standard ones, and the socket a child inherits needs no path in the file system (which a jail would have
/// to make room for).
/// </remarks>
internal sealed class ChildProcess : IDisposable
{
    private int _pid;
    private int? _exitStatus;

    private ChildProcess(int pid, string program)
    {
        _pid = pid;
        Program = program;
    }

    public int Pid => _pid;

    public string Program { get; }

    /// <summary>
    /// Starts <paramref name="program"/> with <paramref name="arguments"/>, passing <paramref name="passOn"/> on as
    /// descriptor number <paramref name="passAs"/>. Throws <see cref="IOException"/> when it cannot start.
    /// </summary>
    public static unsafe ChildProcess Start(string program, IReadOnlyList<string> arguments, FileDescriptorHandle passOn, int passAs)
    {
        Jail.JailState.ThrowIfProgramsForbidden(program);
        var strings = new List<byte[]> { Utf8(program) };
        strings.AddRange(arguments.Select(Utf8));
        byte[] devNull = Utf8("/dev/null");
        using var lease = passOn.Lease();
        byte* fileActions = stackalloc byte[LibcNative.SpawnFileActionsSize];
        byte* attributes = stackalloc byte[LibcNative.SpawnAttrSize];
        var pins = strings.Select(s => System.Runtime.InteropServices.GCHandle.Alloc(s, System.Runtime.InteropServices.GCHandleType.Pinned)).ToList();
        try
        {
            // SAFETY: both structures are stack buffers larger than glibc's; they are initialised here and destroyed below.
            int setup = LibcNative.SpawnFileActionsInit(fileActions) | LibcNative.SpawnAttrInit(attributes);
            fixed (byte* nullPath = devNull)
            {
                // SAFETY: the path is pinned until posix_spawn below has run (file actions keep a copy in glibc ≥ 2.29).
                setup |= LibcNative.SpawnFileActionsAddOpen(fileActions, 0, nullPath, 0, 0);
                setup |= LibcNative.SpawnFileActionsAddDup2(fileActions, lease.Fd, passAs);

                ulong noSignals = 0, allSignals = ~0UL;
                // SAFETY: sigset_t's first 8 bytes hold signals 1–64, the rest is unused by glibc; locals live for the calls.
                ulong* emptyMask = stackalloc ulong[16];
                ulong* fullSet = stackalloc ulong[16];
                for (int i = 0; i < 16; i++)
                {
                    emptyMask[i] = noSignals;
                    fullSet[i] = i == 0 ? allSignals : 0;
                }

                setup |= LibcNative.SpawnAttrSetSigMask(attributes, emptyMask);
                setup |= LibcNative.SpawnAttrSetSigDefault(attributes, fullSet);
                setup |= LibcNative.SpawnAttrSetFlags(attributes, LibcNative.PosixSpawnSetSigMask | LibcNative.PosixSpawnSetSigDef);
                if (setup != 0)
                {
                    throw new IOException($"Cannot prepare to start {program} (posix_spawn attributes failed).");
                }

                byte** argv = stackalloc byte*[strings.Count + 1];
                for (int i = 0; i < strings.Count; i++)
                {
                    argv[i] = (byte*)pins[i].AddrOfPinnedObject();
                }

                argv[strings.Count] = null;
                byte** envp = stackalloc byte*[1];
                envp[0] = null;
                int pid;
                // SAFETY: argv and envp are NULL-terminated arrays of pinned NUL-terminated strings, alive for the call.
                int error = LibcNative.PosixSpawn(&pid, argv[0], fileActions, attributes, argv, envp);
                if (error != 0)
                {
                    throw new IOException(error == LibcNative.ENOENT
                        ? $"{program} is not installed"
                        : $"Cannot start {program}: errno {error}");
                }

                return new ChildProcess(pid, program);
            }
        }
        finally
        {
            _ = LibcNative.SpawnAttrDestroy(attributes);
            _ = LibcNative.SpawnFileActionsDestroy(fileActions);
            pins.ForEach(p => p.Free());
        }
    }

    /// <summary>True once the child has ended (reaping it if so); its wait status is then in <see cref="ExitStatus"/>.</summary>
    public unsafe bool HasExited
    {
        get
        {
            if (_exitStatus is not null)
            {
                return true;
            }

            int status;
            // SAFETY: status is a local waitpid writes.
            int result = LibcNative.WaitPid(_pid, &status, LibcNative.WNoHang);
            if (result == _pid)
            {
                _exitStatus = status;
            }
            else if (result < 0)
            {
                _exitStatus = -1; // not our child any more (reaped elsewhere)
            }

            return _exitStatus is not null;
        }
    }

    /// <summary>The raw wait status once ended: an exit code in bits 8–15, or a signal in bits 0–6.</summary>
    public int? ExitStatus => _exitStatus;

    /// <summary>"exit code 1", "signal 9".</summary>
    public string Describe() => _exitStatus switch
    {
        null => "running",
        -1 => "gone",
        int s when (s & 0x7F) == 0 => $"exit code {(s >> 8) & 0xFF}",
        int s => $"signal {s & 0x7F}",
    };

    /// <summary>SIGTERM, up to <paramref name="grace"/> to end, then SIGKILL; always reaped on return.</summary>
    public unsafe void Stop(TimeSpan grace)
    {
        if (HasExited)
        {
            return;
        }

        LibcNative.Kill(_pid, LibcNative.SigTerm);
        long deadline = Environment.TickCount64 + (long)grace.TotalMilliseconds;
        while (!HasExited && Environment.TickCount64 < deadline)
        {
            Thread.Sleep(2);
        }

        if (!HasExited)
        {
            LibcNative.Kill(_pid, LibcNative.SigKill);
            int status;
            // SAFETY: status is a local waitpid writes.
            _exitStatus = LibcNative.WaitPid(_pid, &status, 0) == _pid ? status : -1;
        }
    }

    public void Dispose() => Stop(TimeSpan.FromMilliseconds(500));

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text + "\0");
}
