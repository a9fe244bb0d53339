using System.Runtime.InteropServices;

namespace Platform.Engine.Tests.Kvm.Interop;

/// <summary>
/// The libc calls the interop tests make to watch the wrappers from outside: raw descriptor numbers on purpose, so a
/// test can see whether a number is still open, put a descriptor at a chosen number, or ask whether an address is mapped;
/// and the calls <c>FileSystemProbe</c> asks the kernel with, apart from the product's own.
/// </summary>
internal static partial class TestNative
{
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EEXIST = 17;
    private const int ONonBlock = 0x800;
    private const int OCloseOnExec = 0x80000;
    private const int AfUnix = 1, SockSeqPacket = 5;
    private const int ProtRead = 1, ProtWrite = 2, MapPrivate = 0x02, MapAnonymous = 0x20, MapFixedNoReplace = 0x100000;

    /// <summary>
    /// A descriptor number far above what this process uses: descriptors are handed out lowest first, so nothing else
    /// lands here while a test dup2's onto it (the runtime raises the limit to 20000 here; the default is 1024).
    /// </summary>
    public const int SpareDescriptor = 1000;

    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    private static unsafe partial int Pipe2(int* fds, int flags);

    [LibraryImport("libc", EntryPoint = "socketpair", SetLastError = true)]
    private static unsafe partial int SocketPair(int domain, int type, int protocol, int* fds);

    [LibraryImport("libc", EntryPoint = "dup2", SetLastError = true)]
    public static partial int Dup2(int oldFd, int newFd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static unsafe partial nint Read(int fd, void* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static unsafe partial nint Write(int fd, void* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "mincore", SetLastError = true)]
    private static unsafe partial int Mincore(nint address, nuint length, byte* vector);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint address, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    public static partial int Munmap(nint address, nuint length);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenRaw(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fallocate", SetLastError = true)]
    private static partial int FallocateRaw(int fd, int mode, long offset, long length);

    /// <summary>open(2) with <paramref name="flags"/> (O_CLOEXEC added): the descriptor, or the negated errno.</summary>
    public static int OpenFile(string path, int flags)
    {
        int fd = OpenRaw(path, flags | OCloseOnExec);
        return fd >= 0 ? fd : -Marshal.GetLastPInvokeError();
    }

    /// <summary>fallocate(2): 0, or the negated errno.</summary>
    public static int Fallocate(int fd, int mode, long offset, long length) =>
        FallocateRaw(fd, mode, offset, length) == 0 ? 0 : -Marshal.GetLastPInvokeError();

    /// <summary>A non-blocking pipe: (read end, write end).</summary>
    public static unsafe (int Read, int Write) Pipe()
    {
        int* fds = stackalloc int[2];
        Pipe2(fds, ONonBlock | OCloseOnExec).Should().Be(0, "pipe2 errno {0}", Marshal.GetLastPInvokeError());
        return (fds[0], fds[1]);
    }

    /// <summary>A non-blocking AF_UNIX SOCK_SEQPACKET pair: frames keep their boundaries, as on a TAP.</summary>
    public static unsafe (int A, int B) PacketPair()
    {
        int* fds = stackalloc int[2];
        SocketPair(AfUnix, SockSeqPacket | ONonBlock | OCloseOnExec, 0, fds).Should().Be(0, "socketpair errno {0}", Marshal.GetLastPInvokeError());
        return (fds[0], fds[1]);
    }

    /// <summary>read(2) into <paramref name="buffer"/>: the bytes read (0 at end of file), or the negated errno.</summary>
    public static unsafe int ReadOnce(int fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            nint read = Read(fd, p, (nuint)buffer.Length);
            return read >= 0 ? (int)read : -Marshal.GetLastPInvokeError();
        }
    }

    /// <summary>What a read of the pipe's read end says: 0 once every write end is closed, -EAGAIN while one is open and empty.</summary>
    public static int ReadOnce(int fd) => ReadOnce(fd, stackalloc byte[16]);

    public static unsafe int WriteOnce(int fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            nint written = Write(fd, p, (nuint)data.Length);
            return written >= 0 ? (int)written : -Marshal.GetLastPInvokeError();
        }
    }

    /// <summary>Whether every page of [address, address + length) is mapped in this process (mincore fails with ENOMEM otherwise).</summary>
    public static unsafe bool IsMapped(nint address, nuint length)
    {
        byte* vector = stackalloc byte[(int)((length + 4095) / 4096)];
        if (Mincore(address, length, vector) == 0)
        {
            return true;
        }

        Marshal.GetLastPInvokeError().Should().Be(ENOMEM, "mincore fails only because the range is not mapped");
        return false;
    }

    /// <summary>An anonymous read/write mapping exactly at <paramref name="address"/>, or 0 when something else already took it.</summary>
    public static nint MapAt(nint address, nuint length)
    {
        nint mapped = Mmap(address, length, ProtRead | ProtWrite, MapPrivate | MapAnonymous | MapFixedNoReplace, -1, 0);
        return mapped == address ? mapped : 0;
    }
}
