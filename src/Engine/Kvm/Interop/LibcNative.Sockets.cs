using System.Runtime.InteropServices;

namespace Platform.Engine.Kvm.Interop;

/// <summary>The socket calls behind <see cref="StreamSocket"/>.</summary>
internal static partial class LibcNative
{
    public const int AfUnix = 1;
    public const int SockStream = 1;
    public const int SockCloseOnExec = 0x80000;
    public const int MsgDontWait = 0x40;
    public const int MsgNoSignal = 0x4000;
    public const int EPIPE = 32;
    public const int ECONNRESET = 104;
    public const int FGetFl = 3;
    public const int FSetFl = 4;
    public const int ONonBlock = 0x800;

    public const int EOPNOTSUPP = 95;

    /// <summary>socket(2); an invalid handle on failure.</summary>
    public static FileDescriptorHandle Socket(int domain, int type, int protocol) => Own(SocketNumber(domain, type, protocol));

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static partial int SocketNumber(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "socketpair", SetLastError = true)]
    public static unsafe partial int SocketPair(int domain, int type, int protocol, int* fds);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    public static unsafe partial nint Recv(FileDescriptorHandle fd, void* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    public static unsafe partial nint SendMsg(FileDescriptorHandle fd, MsgHdr* message, int flags);

    /// <summary>recvmsg(2) on a socket .NET owns (control.sock's connections), for the descriptors that come with its bytes.</summary>
    [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    public static unsafe partial nint RecvMsg(System.Net.Sockets.SafeSocketHandle fd, MsgHdr* message, int flags);

    public const int MsgCtrunc = 0x8;
    public const int MsgCmsgCloexec = 0x40000000;
    public const int SolSocket = 1;
    public const int ScmRights = 1;

    /// <summary><c>struct cmsghdr</c>'s header on x86-64: <c>cmsg_len</c> (size_t), level, type; the data follows, 8-aligned.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct CmsgHdr
    {
        public nuint Length;
        public int Level;
        public int Type;
    }

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(FileDescriptorHandle fd, int command, int argument);

    /// <summary><c>struct iovec</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    /// <summary><c>struct msghdr</c> on x86-64.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }
}
