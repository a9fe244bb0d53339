namespace Platform.Engine.Kvm.Interop;

/// <summary>
/// An epoll set (crosvm's <c>EventContext</c>): descriptors added with a token, and a wait that fills a caller's
/// buffer with the tokens of those that are ready. Owns its descriptor; each call holds the descriptors it passes.
/// </summary>
internal sealed class Epoll : IDisposable
{
    private readonly FileDescriptorHandle _fd;

    private Epoll(FileDescriptorHandle fd) => _fd = fd;

    public static Epoll Create()
    {
        var fd = LibcNative.EpollCreate1(LibcNative.EpollCloseOnExec);
        if (fd.IsInvalid)
        {
            int errno = LibcNative.LastError;
            fd.Dispose();
            throw new KvmException("epoll_create1", errno, "The process may have run out of file descriptors (ulimit -n).");
        }

        return new Epoll(fd);
    }

    /// <summary>
    /// Watches <paramref name="fd"/> for input; <see cref="Wait"/> reports it with <paramref name="token"/>.
    /// <paramref name="edgeTriggered"/>: reported once per change, so its reader empties it (EPOLLET).
    /// </summary>
    public void Add(FileDescriptorHandle fd, ulong token, bool edgeTriggered = false) =>
        Add(fd, token, LibcNative.EpollIn | (edgeTriggered ? LibcNative.EpollEdgeTriggered : 0));

    /// <summary>Watches <paramref name="fd"/> for <paramref name="events"/> (EPOLLIN, EPOLLOUT, EPOLLET…).</summary>
    public unsafe void Add(FileDescriptorHandle fd, ulong token, uint events)
    {
        var ev = new LibcNative.EpollEvent { Events = events, Data = token };
        // SAFETY: pointer to a local that epoll_ctl reads during the call only.
        if (LibcNative.EpollCtl(_fd, LibcNative.EpollCtlAdd, fd, &ev) < 0)
        {
            throw new KvmException($"epoll_ctl ADD (token {token})", LibcNative.LastError);
        }
    }

    /// <summary>Stops watching <paramref name="fd"/>.</summary>
    public unsafe void Remove(FileDescriptorHandle fd)
    {
        // SAFETY: EPOLL_CTL_DEL ignores the event pointer; null is allowed since Linux 2.6.9.
        if (LibcNative.EpollCtl(_fd, LibcNative.EpollCtlDel, fd, null) < 0)
        {
            throw new KvmException("epoll_ctl DEL", LibcNative.LastError);
        }
    }

    /// <summary>
    /// Waits up to <paramref name="timeoutMs"/> (-1: no limit) for watched descriptors to be ready and writes their
    /// tokens to <paramref name="events"/>; returns how many, 0 on a timeout or a signal (EINTR).
    /// Throws <see cref="ObjectDisposedException"/> once the set is disposed.
    /// </summary>
    public unsafe int Wait(Span<LibcNative.EpollEvent> events, int timeoutMs)
    {
        if (events.IsEmpty)
        {
            throw new ArgumentException("epoll_wait needs room for at least one event.", nameof(events));
        }

        int count;
        fixed (LibcNative.EpollEvent* p = events)
        {
            // SAFETY: the span is pinned for the call and epoll_wait writes at most events.Length entries to it.
            count = LibcNative.EpollWait(_fd, p, events.Length, timeoutMs);
        }

        if (count >= 0)
        {
            return count;
        }

        int errno = LibcNative.LastError;
        return errno == LibcNative.EINTR ? 0 : throw new KvmException("epoll_wait", errno);
    }

    public void Dispose() => _fd.Dispose();
}
