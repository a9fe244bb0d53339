namespace Platform.Engine.Kvm.Interop;

/// <summary>
/// A non-blocking eventfd: the kernel's 64-bit counter that KVM signals for an ioeventfd and reads for an irqfd.
/// <see cref="Signal"/> and <see cref="Consume"/> are one system call each and allocate nothing.
/// </summary>
/// <remarks>
/// The descriptor is closed by <see cref="Dispose"/>, once, after the last call that holds it returns; a signal or
/// read after that fails (false, 0) instead of reaching whatever descriptor the number names next. KVM and epoll
/// get the descriptor through <see cref="Handle"/>: a call takes it as a handle, a struct the kernel reads takes
/// the number from a <see cref="FileDescriptorHandle.Lease"/>.
/// </remarks>
internal sealed class EventFd : IDisposable
{
    private readonly FileDescriptorHandle _fd;

    private EventFd(FileDescriptorHandle fd) => _fd = fd;

    /// <summary>The descriptor, for epoll and KVM (<c>KVM_IRQFD</c>, <c>KVM_IOEVENTFD</c>).</summary>
    public FileDescriptorHandle Handle => _fd;

    public static EventFd Create()
    {
        var fd = LibcNative.Eventfd(0, LibcNative.EfdNonBlock | LibcNative.EfdCloseOnExec);
        if (fd.IsInvalid)
        {
            int errno = LibcNative.LastError;
            fd.Dispose();
            throw new KvmException("eventfd", errno, "The process may have run out of file descriptors (ulimit -n).");
        }

        return new EventFd(fd);
    }

    /// <summary>Adds one to the counter, waking whoever polls it (or injecting the irqfd's interrupt). False on failure or once disposed.</summary>
    public unsafe bool Signal()
    {
        if (_fd.IsDisposed)
        {
            return false;
        }

        ulong one = 1;
        try
        {
            // SAFETY: an 8-byte local, the size an eventfd write takes; write(2) reads it during the call only.
            return LibcNative.Write(_fd, &one, sizeof(ulong)) == sizeof(ulong);
        }
        catch (ObjectDisposedException)
        {
            return false; // disposed between the check and the call
        }
    }

    /// <summary>Reads and clears the counter; 0 when it was already zero (EAGAIN), or once disposed.</summary>
    public unsafe ulong Consume()
    {
        if (_fd.IsDisposed)
        {
            return 0;
        }

        ulong value = 0;
        try
        {
            // SAFETY: an 8-byte local, the size an eventfd read takes; read(2) writes at most that, during the call.
            return LibcNative.Read(_fd, &value, sizeof(ulong)) == sizeof(ulong) ? value : 0;
        }
        catch (ObjectDisposedException)
        {
            return 0;
        }
    }

    public void Dispose() => _fd.Dispose();
}
