namespace Platform.Engine.Kvm.Interop;

/// <summary>
/// One end of a connected Unix stream socket pair: non-blocking reads, and writes of a header and a body in one
/// sendmsg (so a length prefix and its frame need no copy into one buffer). Owns the descriptor.
/// </summary>
internal sealed class StreamSocket : IDisposable
{
    private readonly FileDescriptorHandle _fd;

    private StreamSocket(FileDescriptorHandle fd) => _fd = fd;

    /// <summary>The descriptor, for the event loop's epoll set.</summary>
    public FileDescriptorHandle Handle => _fd;

    /// <summary>
    /// A connected pair: the first end non-blocking, for us; the second blocking, for a child to inherit as its
    /// descriptor (both close-on-exec: a spawn that passes the second on dup2s it, which clears the flag there).
    /// </summary>
    public static unsafe (StreamSocket Ours, FileDescriptorHandle Theirs) CreatePair()
    {
        int* fds = stackalloc int[2];
        // SAFETY: fds points at two ints on the stack, which socketpair fills.
        if (LibcNative.SocketPair(LibcNative.AfUnix, LibcNative.SockStream | LibcNative.SockCloseOnExec, 0, fds) < 0)
        {
            throw new IOException($"socketpair failed: errno {LibcNative.LastError}");
        }

        var ours = new FileDescriptorHandle(fds[0]);
        var theirs = new FileDescriptorHandle(fds[1]);
        int flags = LibcNative.Fcntl(ours, LibcNative.FGetFl, 0);
        if (flags < 0 || LibcNative.Fcntl(ours, LibcNative.FSetFl, flags | LibcNative.ONonBlock) < 0)
        {
            int errno = LibcNative.LastError;
            ours.Dispose();
            theirs.Dispose();
            throw new IOException($"fcntl O_NONBLOCK on a socket failed: errno {errno}");
        }

        return (new StreamSocket(ours), theirs);
    }

    /// <summary>Reads what is there into <paramref name="buffer"/>: the bytes read, 0 at end of stream, or the negated errno (-EAGAIN: nothing yet).</summary>
    public unsafe int Receive(Span<byte> buffer)
    {
        nint read;
        fixed (byte* p = buffer)
        {
            // SAFETY: the span is pinned for the call; recv writes at most buffer.Length bytes to it.
            read = LibcNative.Recv(_fd, p, (nuint)buffer.Length, LibcNative.MsgDontWait);
        }

        return read >= 0 ? (int)read : -LibcNative.LastError;
    }

    /// <summary>
    /// Writes <paramref name="head"/> then <paramref name="body"/> in one call, without SIGPIPE: the bytes written
    /// (possibly fewer than both: the socket's buffer is full), or the negated errno (-EAGAIN, -EPIPE).
    /// </summary>
    public unsafe int Send(ReadOnlySpan<byte> head, ReadOnlySpan<byte> body)
    {
        nint written;
        fixed (byte* h = head)
        fixed (byte* b = body)
        {
            var iov = stackalloc LibcNative.IoVec[2];
            iov[0] = new LibcNative.IoVec { Base = h, Length = (nuint)head.Length };
            iov[1] = new LibcNative.IoVec { Base = b, Length = (nuint)body.Length };
            var message = new LibcNative.MsgHdr { Iov = iov, IovLength = 2 };
            // SAFETY: both spans are pinned and the iovecs and msghdr live on the stack for the call; sendmsg only reads them.
            written = LibcNative.SendMsg(_fd, &message, LibcNative.MsgDontWait | LibcNative.MsgNoSignal);
        }

        return written >= 0 ? (int)written : -LibcNative.LastError;
    }

    public void Dispose() => _fd.Dispose();
}
