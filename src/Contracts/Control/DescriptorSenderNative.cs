using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Platform.Contracts.Control;

/// <summary>
/// Sends bytes over a Unix stream socket with one open descriptor attached (SCM_RIGHTS), which .NET's <see cref="Socket"/>
/// cannot: the control client passes a file it opened to a VMM that could not open it (a jailed one), as QEMU's clients
/// pass a descriptor with <c>getfd</c>. The descriptor rides with the first byte, so the receiver gets it together with
/// the line it belongs to. No unsafe code (this assembly has none): the buffers are pinned with <see cref="GCHandle"/>.
/// x86-64 Linux layouts, the only platform the dashboard and the VMM run on.
/// </summary>
internal static class DescriptorSenderNative
{
    private const int SolSocket = 1;
    private const int ScmRights = 1;
    private const int MsgDontWait = 0x40;
    private const int MsgNoSignal = 0x4000;
    private const int EAGAIN = 11;
    private const int EINTR = 4;
    private const int CmsgHeaderSize = 16; // CMSG_LEN(0)
    private const int ControlSize = 24; // CMSG_SPACE(sizeof(int))

#pragma warning disable SYSLIB1054 // LibraryImport needs unsafe code, which only the engine may have; these arguments are blittable.
    [DllImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    private static extern nint SendMsg(int fd, ref MsgHdr message, int flags);
#pragma warning restore SYSLIB1054

    /// <summary>
    /// Sends as much of <paramref name="data"/> as the socket takes now, with <paramref name="file"/> attached; returns
    /// how many bytes went (the caller sends the rest as usual), or 0 when the socket is full (try again shortly).
    /// </summary>
    /// <exception cref="SocketException">The connection is gone.</exception>
    public static int TrySend(Socket socket, byte[] data, SafeFileHandle file)
    {
        byte[] control = new byte[ControlSize];
        BitConverter.TryWriteBytes(control.AsSpan(0, 8), (ulong)(CmsgHeaderSize + sizeof(int)));
        BitConverter.TryWriteBytes(control.AsSpan(8, 4), SolSocket);
        BitConverter.TryWriteBytes(control.AsSpan(12, 4), ScmRights);
        var iov = new IoVec[1];
        bool fileReferenced = false;
        var pins = new List<GCHandle>(3);
        try
        {
            file.DangerousAddRef(ref fileReferenced); // the number stays this file's until sendmsg has returned
            BitConverter.TryWriteBytes(control.AsSpan(CmsgHeaderSize, 4), (int)file.DangerousGetHandle());
            pins.Add(GCHandle.Alloc(data, GCHandleType.Pinned));
            pins.Add(GCHandle.Alloc(control, GCHandleType.Pinned));
            iov[0] = new IoVec { Base = pins[0].AddrOfPinnedObject(), Length = (nuint)data.Length };
            pins.Add(GCHandle.Alloc(iov, GCHandleType.Pinned));
            var message = new MsgHdr
            {
                Iov = pins[2].AddrOfPinnedObject(),
                IovLength = 1,
                Control = pins[1].AddrOfPinnedObject(),
                ControlLength = ControlSize,
            };
            while (true)
            {
                nint sent = SendMsg((int)socket.Handle, ref message, MsgDontWait | MsgNoSignal);
                if (sent >= 0)
                {
                    return (int)sent;
                }

                int errno = Marshal.GetLastPInvokeError();
                if (errno == EAGAIN)
                {
                    return 0;
                }

                if (errno != EINTR)
                {
                    throw new SocketException(errno);
                }
            }
        }
        finally
        {
            foreach (var pin in pins)
            {
                pin.Free();
            }

            if (fileReferenced)
            {
                file.DangerousRelease();
            }
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct IoVec
    {
        public nint Base;
        public nuint Length;
    }

    /// <summary><c>struct msghdr</c> (56 bytes; sequential layout pads it as the C compiler does).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct MsgHdr
    {
        public nint Name;
        public uint NameLength;
        public nint Iov;
        public nuint IovLength;
        public nint Control;
        public nuint ControlLength;
        public int Flags;
    }
}
