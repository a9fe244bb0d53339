using System.Text;
using Platform.Engine.Host;
using Platform.Engine.Kvm.Interop;
using Platform.Engine.Machine;

namespace Platform.Engine.Jail;

/// <summary>
/// The jailed VMM's side of the jail, run once its first boot is built (the kernel loaded, /dev/kvm, the disks, TAPs
/// and passt open, the sockets bound) and before any guest instruction runs. The process was started by
/// <see cref="JailKeeper"/> as pid 1 of new mount, PID, IPC and UTS namespaces, still root; here it builds a root of
/// its own, pivots into it, becomes the VM's unprivileged uid/gid with no capabilities and loads its seccomp filter.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public static class VmmJail
{
    /// <summary>Set by the keeper in the environment of the VMM it starts: the keeper's pid, which names the jail's root folder.</summary>
    public const string ChildVariable = "PLATFORM_VMM_JAIL_CHILD";

    /// <summary>True when the VMM was started as root: then it is jailed unless told --no-jail.</summary>
    public static bool StartedAsRoot => LibcNative.GetEuid() == 0;

    /// <summary>True in the process the keeper started (which must then jail itself before it runs the guest).</summary>
    public static bool IsJailedChild => Environment.GetEnvironmentVariable(ChildVariable) is { Length: > 0 };

    /// <summary>
    /// Learns the pid the host sees (inside the new PID namespace this process is 1) from <c>/proc/self</c>: the /proc
    /// mounted now is still the host's, whose "self" names a process in the host's PID namespace. No word from the
    /// keeper is needed, so the VMM never waits for its keeper to be scheduled again after the spawn. Then it ties its
    /// life to the keeper's (<see cref="DieWithKeeper"/>).
    /// </summary>
    public static void ReadHostPid()
    {
        string? self = new FileInfo("/proc/self").LinkTarget;
        if (!int.TryParse(self, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pid) || pid <= 1)
        {
            throw new JailException($"The jailed VMM cannot tell its host pid (/proc/self is {self ?? "missing"}).");
        }

        JailState.HostProcessId = pid;
        DieWithKeeper();
    }

    /// <summary>
    /// Ends this VMM when its keeper ends, from its first step: the VMM builds the first boot as root before it drops
    /// its rights, and a keeper killed then (a start that timed out, a Stop during the start) must not leave it running
    /// on, unconfined and unsupervised. The kernel is asked first (PR_SET_PDEATHSIG); then the parent is checked, in
    /// case the keeper ended before the request took hold. The host's /proc is still mounted here and gives pids as
    /// the host sees them (inside the new PID namespace getppid() is 0).
    /// </summary>
    private static void DieWithKeeper()
    {
        Check(LibcNative.Prctl(LibcNative.PrSetPdeathsig, LibcNative.SigKill, 0, 0, 0), "PR_SET_PDEATHSIG");
        if (!int.TryParse(Environment.GetEnvironmentVariable(ChildVariable), System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out int keeper))
        {
            throw new JailException($"{ChildVariable} must be the keeper's pid.");
        }

        // /proc/self/stat: "pid (comm) state ppid ...".
        string[] after = Host.ProcStats.FieldsAfterName(File.ReadAllText("/proc/self/stat"));
        if (after.Length < 2 || after[1] != keeper.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            throw new JailException($"The keeper (pid {keeper}) ended before the jailed VMM started; it does not run on without it.");
        }
    }

    /// <summary>
    /// Enters the jail: root of its own, unprivileged, seccomp. Throws <see cref="JailException"/> naming the step that
    /// failed; the VMM then ends, never running the guest unjailed.
    /// </summary>
    public static void Enter(JailOptions options, MachineConfig config, string? runtimeDirectory, TextWriter log)
    {
        if (LibcNative.GetPid() != 1)
        {
            throw new JailException("The jail is entered only by the VMM its keeper started (pid 1 of a new PID namespace).");
        }

        if (!int.TryParse(Environment.GetEnvironmentVariable(ChildVariable), System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out int keeper))
        {
            throw new JailException($"{ChildVariable} must be the keeper's pid.");
        }

        // The empty folder the root is mounted on, made here (not by the keeper, which only starts this process).
        string root = JailKeeper.RootFolder(runtimeDirectory, keeper);
        if (runtimeDirectory is not null)
        {
            JailFolder.RemoveStaleRoots(runtimeDirectory, log);
        }

        // A new folder whatever had the name: an earlier VMM of this VM ran as the folder's owner and may have left a link.
        JailFolder.CreateRoot(root, log);
        bool logOnly = Environment.GetEnvironmentVariable(JailOptions.LogModeVariable) == "log";
        // libseccomp is loaded (and the filter built) now, while the host's /usr/lib is still there to load it from.
        var filter = new SeccompFilter(logOnly);
        StartupTrace.Mark("jail: filter built");
        var mounts = JailMount.Collect(config, runtimeDirectory);
        StartupTrace.Mark("jail: mounts collected");

        using var disks = GiveFiles(config, runtimeDirectory, options);
        KeepReadOnlyFiles(mounts);
        Check(LibcNative.Mount(null, "/", null, LibcNative.MsRec | LibcNative.MsPrivate, null), "making every mount private");
        Check(LibcNative.Mount("tmpfs", root, "tmpfs", LibcNative.MsNoSuid | LibcNative.MsNoDev | LibcNative.MsNoExec, "mode=0755,size=64k,nr_inodes=256"),
            $"mounting the jail's root on {root}");
        foreach (var mount in mounts)
        {
            BindInto(root, mount, disks.SourceFor(mount.Path));
        }

        Directory.CreateDirectory(root + "/proc");
        // A /proc of the VMM's own PID namespace with the processes only (no /proc/sys, no host information): the VMM
        // reads its own memory and thread times there.
        if (LibcNative.Mount("proc", root + "/proc", "proc", LibcNative.MsNoSuid | LibcNative.MsNoDev | LibcNative.MsNoExec, "subset=pid") != 0)
        {
            Check(LibcNative.Mount("proc", root + "/proc", "proc", LibcNative.MsNoSuid | LibcNative.MsNoDev | LibcNative.MsNoExec, null), "mounting /proc");
        }

        StartupTrace.Mark("jail: root mounted");
        Check(LibcNative.Chdir(root), "entering the jail's root");
        Check(LibcNative.PivotRoot(".", "."), "pivot_root");
        Check(LibcNative.Umount2(".", LibcNative.MntDetach), "detaching the host's root");
        Check(LibcNative.Chdir("/"), "entering /");
        Check(LibcNative.Mount(null, "/", null, LibcNative.MsRemount | LibcNative.MsBind | LibcNative.MsRdOnly | LibcNative.MsNoSuid | LibcNative.MsNoDev | LibcNative.MsNoExec, null),
            "making the jail's root read-only");
        SetHostname("platform-vm");
        StartupTrace.Mark("jail: pivoted");

        DropPrivileges(options);
        StartupTrace.Mark("jail: privileges dropped");
        filter.LoadForProcess();
        StartupTrace.Mark("jail: filter loaded");
        JailState.Activate(filter);
        log.WriteLine($"platform-vmm: jailed as {options} (no capabilities, no_new_privs, seccomp{(logOnly ? " in LOG mode: nothing is killed" : "")}; " +
            $"new mount, PID, IPC and UTS namespaces; {mounts.Count} paths in its root)");
    }

    /// <summary>
    /// Opens every read-only file of the jail now, as root, and keeps it for the reboots (<see cref="Platform.Devices.Storage.KeptFiles"/>):
    /// a library kernel, base image or ISO is the dashboard's (0600), which the VM's uid could not open again by name.
    /// </summary>
    private static void KeepReadOnlyFiles(IReadOnlyList<JailMount> mounts)
    {
        foreach (var mount in mounts.Where(m => !m.Writable && !m.Directory && !m.Device))
        {
            try
            {
                Platform.Devices.Storage.KeptFiles.Keep(mount.Path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new JailException($"The jail could not keep {mount.Path} open for reboots: {ex.Message}");
            }
        }

        StartupTrace.Mark("jail: read-only files kept");
    }

    /// <summary>
    /// The VM's uid owns its runtime folder and its writable disks, so a reboot opens them again; read-only files are
    /// kept open (<see cref="KeepReadOnlyFiles"/>). Both are given through descriptors (fchown), never chown by name.
    /// </summary>
    private static JailDiskFiles GiveFiles(MachineConfig config, string? runtimeDirectory, JailOptions options)
    {
        if (runtimeDirectory is not null)
        {
            JailFolder.Give(runtimeDirectory, options.Uid, options.Gid);
        }

        var disks = JailDiskFiles.Give(config, options.Uid, options.Gid);
        StartupTrace.Mark("jail: disks given");
        return disks;
    }

    /// <summary>Binds <paramref name="source"/> (the host's path, or a given disk's descriptor) at the mount's path in the jail.</summary>
    private static void BindInto(string root, JailMount mount, string source)
    {
        string target = root + mount.Path;
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        if (mount.Directory)
        {
            Directory.CreateDirectory(target);
        }
        else if (!File.Exists(target))
        {
            // Never File.Create on an existing target: inside a folder bound from the host, it is the host's file.
            using (File.Create(target))
            {
            }
        }

        Check(LibcNative.Mount(source, target, null, LibcNative.MsBind, null), $"binding {mount.Path} into the jail");
        ulong flags = LibcNative.MsRemount | LibcNative.MsBind | LibcNative.MsNoSuid | (mount.Executable ? 0 : LibcNative.MsNoExec)
            | (mount.Device ? 0 : LibcNative.MsNoDev) | (mount.Writable ? 0 : LibcNative.MsRdOnly);
        Check(LibcNative.Mount(null, target, null, flags, null), $"restricting {mount.Path} in the jail");
    }

    private static unsafe void SetHostname(string name)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(name);
        fixed (byte* p = bytes)
        {
            // SAFETY: bytes is pinned; sethostname reads exactly its length.
            Check(LibcNative.SetHostname(p, (nuint)bytes.Length), "setting the host name (UTS namespace)");
        }
    }

    /// <summary>
    /// No supplementary groups, then the gid and uid (real, effective and saved: glibc sets them on every thread), which
    /// clears every capability; the VMM dies with its keeper (PR_SET_PDEATHSIG, which a uid change resets, so it comes
    /// after).
    /// </summary>
    private static unsafe void DropPrivileges(JailOptions options)
    {
        Check(LibcNative.SetGroups(0, null), "dropping supplementary groups");
        Check(LibcNative.SetResGid(options.Gid, options.Gid, options.Gid), $"becoming gid {options.Gid}");
        Check(LibcNative.SetResUid(options.Uid, options.Uid, options.Uid), $"becoming uid {options.Uid}");
        Check(LibcNative.Prctl(LibcNative.PrSetPdeathsig, LibcNative.SigKill, 0, 0, 0), "PR_SET_PDEATHSIG");
    }

    private static void Check(int result, string what)
    {
        if (result != 0)
        {
            int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            throw new JailException($"The jail failed {what}: errno {errno}.");
        }
    }
}
