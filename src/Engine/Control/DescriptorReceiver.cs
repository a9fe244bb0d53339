using System.Net.Sockets;
using Microsoft.Win32.SafeHandles;
using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Control;

/// <summary>
/// Reads a Unix stream socket .NET owns together with the descriptors sent along (SCM_RIGHTS), which .NET's
/// <see cref="Socket"/> cannot: it waits for data with a one-byte peek (a peek leaves the descriptors where they are; a
/// zero-byte read would take them and the kernel would close them for want of room), then reads with recvmsg(2).
/// The kernel ends a read just after the bytes a descriptor came with, so the descriptors of one read belong to the
/// last line that begins in it (<see cref="ControlConnection"/> attaches them so).
/// </summary>
internal sealed class DescriptorReceiver(Socket socket)
{
    /// <summary>Descriptors one read takes; the kernel closes any beyond them (and sets MSG_CTRUNC).</summary>
    public const int MaxPerRead = 4;

    private const int CmsgHeaderSize = 16; // CMSG_LEN(0) on x86-64
    private const int ControlSize = CmsgHeaderSize + MaxPerRead * sizeof(int); // CMSG_SPACE(16), already 8-aligned

    private readonly byte[] _probe = new byte[1];

    /// <summary>Reads into <paramref name="buffer"/>; 0 at the end of the stream. Descriptors received are added to <paramref name="received"/>.</summary>
    public async ValueTask<int> ReceiveAsync(Memory<byte> buffer, PassedDescriptors received, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (await socket.ReceiveAsync(_probe, SocketFlags.Peek, cancellationToken).ConfigureAwait(false) == 0)
            {
                return 0;
            }

            if (TryReceive(buffer.Span, received, out int read))
            {
                return read;
            }
        }
    }

    /// <summary>One non-blocking recvmsg; false when there was nothing after all (another reader, or a signal).</summary>
    private unsafe bool TryReceive(Span<byte> buffer, PassedDescriptors received, out int read)
    {
        byte* control = stackalloc byte[ControlSize];
        nint result;
        // SAFETY: the iovec points into the pinned buffer, the control area is this frame's, and both lengths are theirs.
        fixed (byte* data = buffer)
        {
            var iov = new LibcNative.IoVec { Base = data, Length = (nuint)buffer.Length };
            var message = new LibcNative.MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = ControlSize };
            // CLOEXEC: a descriptor received must not leak into a passt the VMM starts later.
            result = LibcNative.RecvMsg(socket.SafeHandle, &message, LibcNative.MsgDontWait | LibcNative.MsgCmsgCloexec);
            if (result >= 0)
            {
                Collect(control, message.ControlLength, received);
            }
        }

        if (result < 0)
        {
            int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            if (errno is LibcNative.EAGAIN or LibcNative.EINTR)
            {
                read = 0;
                return false;
            }

            throw new SocketException(errno);
        }

        // With MSG_CTRUNC set the kernel has closed the descriptors that did not fit; the ones here go on as usual.
        read = (int)result;
        return true;
    }

    /// <summary>Every SCM_RIGHTS descriptor in the control area, each owned from here on.</summary>
    private static unsafe void Collect(byte* control, nuint length, PassedDescriptors received)
    {
        nuint offset = 0;
        while (offset + CmsgHeaderSize <= length)
        {
            // SAFETY: offset + the header lies inside the control area the kernel filled (length ≤ ControlSize).
            var header = (LibcNative.CmsgHdr*)(control + offset);
            if (header->Length < CmsgHeaderSize || offset + header->Length > length)
            {
                break;
            }

            if (header->Level == LibcNative.SolSocket && header->Type == LibcNative.ScmRights)
            {
                int count = (int)(header->Length - CmsgHeaderSize) / sizeof(int);
                int* fds = (int*)(control + offset + CmsgHeaderSize);
                for (int i = 0; i < count; i++)
                {
                    received.Add(new SafeFileHandle(fds[i], ownsHandle: true));
                }
            }

            offset += (header->Length + 7) & ~(nuint)7; // CMSG_NXTHDR's alignment
        }
    }
}
