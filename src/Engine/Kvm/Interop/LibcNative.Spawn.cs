using System.Runtime.InteropServices;

namespace Platform.Engine.Kvm.Interop;

/// <summary>The process calls behind <see cref="ChildProcess"/>.</summary>
internal static partial class LibcNative
{
    /// <summary>glibc's posix_spawn_file_actions_t is 80 bytes and posix_spawnattr_t 336; these leave room.</summary>
    public const int SpawnFileActionsSize = 128;
    public const int SpawnAttrSize = 512;
    public const short PosixSpawnSetSigDef = 0x04;
    public const short PosixSpawnSetSigMask = 0x08;
    public const int WNoHang = 1;
    public const int SigKill = 9;
    public const int SigTerm = 15;
    public const int ECHILD = 10;
    public const int ESRCH = 3;

    [LibraryImport("libc", EntryPoint = "posix_spawn")]
    public static unsafe partial int PosixSpawn(int* pid, byte* path, void* fileActions, void* attributes, byte** argv, byte** envp);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_init")]
    public static unsafe partial int SpawnFileActionsInit(void* fileActions);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_destroy")]
    public static unsafe partial int SpawnFileActionsDestroy(void* fileActions);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_adddup2")]
    public static unsafe partial int SpawnFileActionsAddDup2(void* fileActions, int fd, int newFd);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_addopen")]
    public static unsafe partial int SpawnFileActionsAddOpen(void* fileActions, int fd, byte* path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_init")]
    public static unsafe partial int SpawnAttrInit(void* attributes);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_destroy")]
    public static unsafe partial int SpawnAttrDestroy(void* attributes);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setflags")]
    public static unsafe partial int SpawnAttrSetFlags(void* attributes, short flags);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigmask")]
    public static unsafe partial int SpawnAttrSetSigMask(void* attributes, ulong* mask);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigdefault")]
    public static unsafe partial int SpawnAttrSetSigDefault(void* attributes, ulong* signals);

    [LibraryImport("libc", EntryPoint = "waitpid", SetLastError = true)]
    public static unsafe partial int WaitPid(int pid, int* status, int options);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint GetEuid();
}
