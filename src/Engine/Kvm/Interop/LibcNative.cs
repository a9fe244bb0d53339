using System.Runtime.InteropServices;

namespace Platform.Engine.Kvm.Interop;

[Flags]
internal enum MemoryProtection
{
    None = 0,
    Read = 1,
    Write = 2,
    Exec = 4,
}

[Flags]
internal enum MapFlags
{
    Shared = 0x01,
    Private = 0x02,
    Fixed = 0x10,
    Anonymous = 0x20,
    NoReserve = 0x4000,
}

[Flags]
internal enum OpenFlags
{
    ReadOnly = 0,
    ReadWrite = 2,
    NonBlock = 0x800,
    /// <summary>O_DIRECT: transfers bypass the page cache (buffers, offsets and lengths aligned to the logical block).</summary>
    Direct = 0x4000,
    CloseOnExec = 0x80000,
}

/// <summary>The libc calls the engine makes. P/Invoke lives here and in no other class.</summary>
internal static partial class LibcNative
{
    public static readonly nint MapFailed = -1;

    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int EIO = 5;
    public const int ENOENT = 2;
    public const int EACCES = 13;
    public const int EPERM = 1;
    public const int EFAULT = 14;
    public const int EINVAL = 22;
    public const int ENOMEM = 12;
    public const int EEXIST = 17;
    public const int EBADF = 9;
    public const int ENODEV = 19;
    public const int EBUSY = 16;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, OpenFlags flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, nuint request, nint arg);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static unsafe partial int Ioctl(int fd, nuint request, void* arg);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    public static partial nint Mmap(nint addr, nuint length, MemoryProtection prot, MapFlags flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    public static partial int Munmap(nint addr, nuint length);

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    public static partial int Madvise(nint addr, nuint length, int advice);

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    public static partial int Eventfd(uint initval, int flags);

    public const int EfdNonBlock = 0x800;
    public const int EfdCloseOnExec = 0x80000;

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int EpollCreate1(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    public static unsafe partial int EpollCtl(int epfd, int op, int fd, EpollEvent* ev);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    public static unsafe partial int EpollWait(int epfd, EpollEvent* events, int maxEvents, int timeoutMs);

    public const int EpollCloseOnExec = 0x80000;
    public const int EpollCtlAdd = 1;
    public const int EpollCtlDel = 2;
    public const uint EpollIn = 0x001;
    public const uint EpollEdgeTriggered = 1u << 31;

    /// <summary><c>struct epoll_event</c>: packed on x86-64 (12 bytes, the data at offset 4).</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    public struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static unsafe partial nint Read(int fd, void* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static unsafe partial nint Write(int fd, void* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "gettid")]
    public static partial int GetTid();

    [LibraryImport("libc", EntryPoint = "getpid")]
    public static partial int GetPid();

    /// <summary><c>syscall(SYS_tgkill, tgid, tid, sig)</c>: a signal to one thread of this process.</summary>
    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    public static partial long Syscall3(long number, long a, long b, long c);

    public const long SysTgkill = 234;

    [LibraryImport("libc", EntryPoint = "pthread_sigmask")]
    public static unsafe partial int PthreadSigmask(int how, ulong* set, ulong* oldset);

    [LibraryImport("libc", EntryPoint = "sigtimedwait", SetLastError = true)]
    public static unsafe partial int Sigtimedwait(ulong* set, void* info, Timespec* timeout);

    public const int SigBlock = 0;
    public const int SigUnblock = 1;

    [StructLayout(LayoutKind.Sequential)]
    public struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    /// <summary><c>flock(fd, operation)</c>: the advisory lock .NET's FileShare also takes, so both kinds of open exclude each other.</summary>
    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(int fd, int operation);

    public const int LockShared = 1;
    public const int LockExclusive = 2;
    public const int LockNonBlocking = 4;

    /// <summary><c>fallocate(fd, mode, offset, len)</c>: hole punching and zeroing for disk images.</summary>
    [LibraryImport("libc", EntryPoint = "fallocate", SetLastError = true)]
    public static partial int Fallocate(Microsoft.Win32.SafeHandles.SafeFileHandle fd, int mode, long offset, long length);

    public const int FallocKeepSize = 0x01;
    public const int FallocPunchHole = 0x02;
    public const int FallocZeroRange = 0x10;

    public static int LastError => Marshal.GetLastPInvokeError();
}
