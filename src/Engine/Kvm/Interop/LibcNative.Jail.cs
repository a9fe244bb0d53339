using System.Runtime.InteropServices;

namespace Platform.Engine.Kvm.Interop;

/// <summary>The calls behind the jail (<see cref="Platform.Engine.Jail"/>): namespaces, mounts, credentials, prctl.</summary>
internal static partial class LibcNative
{
    public const int CloneNewNs = 0x00020000;
    public const int CloneNewUts = 0x04000000;
    public const int CloneNewIpc = 0x08000000;
    public const int CloneNewPid = 0x20000000;

    public const ulong MsRdOnly = 1;
    public const ulong MsNoSuid = 2;
    public const ulong MsNoDev = 4;
    public const ulong MsNoExec = 8;
    public const ulong MsRemount = 32;
    public const ulong MsBind = 4096;
    public const ulong MsRec = 16384;
    public const ulong MsPrivate = 1 << 18;
    public const int MntDetach = 2;

    public const int PrSetPdeathsig = 1;
    public const int PrSetDumpable = 4;
    public const int SigSys = 31;
    private const long SysPivotRoot = 155;

    [LibraryImport("libc", EntryPoint = "unshare", SetLastError = true)]
    public static partial int Unshare(int flags);

    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Mount(string? source, string target, string? fileSystem, ulong flags, string? data);

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Umount2(string target, int flags);

    /// <summary>pivot_root(2), which glibc does not wrap.</summary>
    public static int PivotRoot(string newRoot, string putOld) => (int)Syscall(SysPivotRoot, newRoot, putOld);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long Syscall(long number, string first, string second);

    [LibraryImport("libc", EntryPoint = "chdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Chdir(string path);

    [LibraryImport("libc", EntryPoint = "fchdir", SetLastError = true)]
    public static partial int Fchdir(int fd);

    [LibraryImport("libc", EntryPoint = "chroot", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Chroot(string path);

    [LibraryImport("libc", EntryPoint = "setenv", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int SetEnv(string name, string value, int overwrite);

    public const int OPath = 0x200000;
    public const int ODirectory = 0x10000;
    public const int OCloexec = 0x80000;

    [LibraryImport("libc", EntryPoint = "sethostname", SetLastError = true)]
    public static unsafe partial int SetHostname(byte* name, nuint length);

    [LibraryImport("libc", EntryPoint = "setgroups", SetLastError = true)]
    public static unsafe partial int SetGroups(nuint size, uint* groups);

    [LibraryImport("libc", EntryPoint = "setresgid", SetLastError = true)]
    public static partial int SetResGid(uint real, uint effective, uint saved);

    [LibraryImport("libc", EntryPoint = "setresuid", SetLastError = true)]
    public static partial int SetResUid(uint real, uint effective, uint saved);

    [LibraryImport("libc", EntryPoint = "prctl", SetLastError = true)]
    public static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static unsafe partial nint ReadNumber(int fd, void* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static unsafe partial nint WriteNumber(int fd, void* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int OpenRaw(string path, int flags);

    /// <summary>signal(2) back to SIG_DFL (0), so a re-raised signal ends the process as the child's ended.</summary>
    [LibraryImport("libc", EntryPoint = "signal")]
    public static partial nint Signal(int signal, nint handler);

    [LibraryImport("libc", EntryPoint = "ptrace", SetLastError = true)]
    public static partial long Ptrace(long request, int pid, nint address, nint data);

    [LibraryImport("libc", EntryPoint = "execve", SetLastError = true)]
    public static unsafe partial int Execve(byte* path, byte** argv, byte** envp);


    /// <summary>True for a regular file (stat(2), following links).</summary>
    public static bool IsRegularFile(string path) => StatIdentity(path) is { IsRegularFile: true };
}
