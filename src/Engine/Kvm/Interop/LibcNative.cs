using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

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

    // Calls that make a descriptor return a C int, so they are imported with an int result and owned at once: a
    // SafeHandle return type would be marshalled from the whole 64-bit register, whose upper half an int result
    // leaves undefined (-1 came back as 0xFFFFFFFF, a "valid" handle).

    /// <summary>open(2); an invalid handle on failure (errno in <see cref="LastError"/>).</summary>
    public static FileDescriptorHandle Open(string path, OpenFlags flags) => Own(OpenNumber(path, flags));

    /// <summary>open(2) for a file .NET reads and writes itself (a disk image); an invalid handle on failure.</summary>
    public static SafeFileHandle OpenFile(string path, OpenFlags flags)
    {
        int fd = OpenNumber(path, flags);
        return new SafeFileHandle(fd, ownsHandle: fd >= 0);
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenNumber(string path, OpenFlags flags);

    /// <summary>Owns a descriptor a call just returned; -1 (failure) gives an invalid handle. Makes no call, so errno stays.</summary>
    private static FileDescriptorHandle Own(int fd) => fd < 0 ? new FileDescriptorHandle() : new FileDescriptorHandle(fd);

    /// <summary>
    /// close(2) of a bare number: only <see cref="FileDescriptorHandle"/>'s ReleaseHandle calls it, when no reference
    /// to the handle is left (a SafeHandle cannot be passed once it is being released).
    /// </summary>
    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(FileDescriptorHandle fd, nuint request, nint arg);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static unsafe partial int Ioctl(FileDescriptorHandle fd, nuint request, void* arg);

    /// <summary>An ioctl that returns a new descriptor (KVM_CREATE_VM, KVM_CREATE_VCPU); an invalid handle on failure.</summary>
    public static FileDescriptorHandle IoctlNewDescriptor(FileDescriptorHandle fd, nuint request, nint arg) => Own(Ioctl(fd, request, arg));

    /// <summary>mmap(2) of a descriptor (the vCPU's kvm_run page); <see cref="MapFailed"/> on failure.</summary>
    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    public static partial nint Mmap(nint addr, nuint length, MemoryProtection prot, MapFlags flags, FileDescriptorHandle fd, nint offset);

    /// <summary>An anonymous mmap(2) (no descriptor); <see cref="MapFailed"/> on failure.</summary>
    public static nint MmapAnonymous(nuint length, MemoryProtection prot, MapFlags flags) =>
        MmapWithoutDescriptor(0, length, prot, flags | MapFlags.Anonymous, NoDescriptor, 0);

    private const int NoDescriptor = -1;

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint MmapWithoutDescriptor(nint addr, nuint length, MemoryProtection prot, MapFlags flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    public static partial int Munmap(nint addr, nuint length);

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    public static partial int Madvise(nint addr, nuint length, int advice);

    /// <summary>eventfd(2); an invalid handle on failure.</summary>
    public static FileDescriptorHandle Eventfd(uint initval, int flags) => Own(EventfdNumber(initval, flags));

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    private static partial int EventfdNumber(uint initval, int flags);

    public const int EfdNonBlock = 0x800;
    public const int EfdCloseOnExec = 0x80000;

    /// <summary>epoll_create1(2); an invalid handle on failure.</summary>
    public static FileDescriptorHandle EpollCreate1(int flags) => Own(EpollCreate1Number(flags));

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    private static partial int EpollCreate1Number(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    public static unsafe partial int EpollCtl(FileDescriptorHandle epfd, int op, FileDescriptorHandle fd, EpollEvent* ev);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    public static unsafe partial int EpollWait(FileDescriptorHandle epfd, EpollEvent* events, int maxEvents, int timeoutMs);

    public const int EpollCloseOnExec = 0x80000;
    public const int EpollCtlAdd = 1;
    public const int EpollCtlDel = 2;
    public const uint EpollIn = 0x001;
    public const uint EpollOut = 0x004;
    public const uint EpollRdHup = 0x2000;
    public const uint EpollEdgeTriggered = 1u << 31;

    /// <summary><c>struct epoll_event</c>: packed on x86-64 (12 bytes, the data at offset 4).</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    public struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static unsafe partial nint Read(FileDescriptorHandle fd, void* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static unsafe partial nint Write(FileDescriptorHandle fd, void* buffer, nuint count);

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
    public static partial int Flock(SafeFileHandle fd, int operation);

    public const int LockShared = 1;
    public const int LockExclusive = 2;
    public const int LockNonBlocking = 4;

    /// <summary><c>fallocate(fd, mode, offset, len)</c>: hole punching and zeroing for disk images.</summary>
    [LibraryImport("libc", EntryPoint = "fallocate", SetLastError = true)]
    public static partial int Fallocate(SafeFileHandle fd, int mode, long offset, long length);

    public const int FallocKeepSize = 0x01;
    public const int FallocPunchHole = 0x02;
    public const int FallocZeroRange = 0x10;

    public static int LastError => Marshal.GetLastPInvokeError();
}
