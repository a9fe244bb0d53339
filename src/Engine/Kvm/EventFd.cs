using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Kvm;

/// <summary>
/// A non-blocking eventfd: the kernel's 64-bit counter that KVM signals for an ioeventfd and reads for an irqfd.
/// <see cref="Signal"/> and <see cref="Consume"/> are one system call each and allocate nothing.
/// </summary>
/// <remarks>
/// The descriptor is closed by <see cref="Dispose"/>; the owner makes sure no thread signals or reads it afterwards
/// (the machine stops its workers first), because a closed descriptor number can be reused by the next open.
/// </remarks>
internal sealed unsafe class EventFd : IDisposable
{
    private readonly FileDescriptorHandle _fd;

    private EventFd(FileDescriptorHandle fd) => _fd = fd;

    public int Fd => _fd.Fd;

    public static EventFd Create()
    {
        int fd = LibcNative.Eventfd(0, LibcNative.EfdNonBlock | LibcNative.EfdCloseOnExec);
        return fd < 0
            ? throw new KvmException("eventfd", LibcNative.LastError, "The process may have run out of file descriptors (ulimit -n).")
            : new EventFd(new FileDescriptorHandle(fd));
    }

    /// <summary>Adds one to the counter, waking whoever polls it (or injecting the irqfd's interrupt). False on failure.</summary>
    public bool Signal()
    {
        ulong one = 1;
        // SAFETY: an 8-byte local, the size an eventfd write takes.
        return LibcNative.Write(_fd.Fd, &one, sizeof(ulong)) == sizeof(ulong);
    }

    /// <summary>Reads and clears the counter; 0 when it was already zero (EAGAIN).</summary>
    public ulong Consume()
    {
        ulong value = 0;
        // SAFETY: an 8-byte local, the size an eventfd read takes.
        return LibcNative.Read(_fd.Fd, &value, sizeof(ulong)) == sizeof(ulong) ? value : 0;
    }

    public void Dispose() => _fd.Dispose();
}
