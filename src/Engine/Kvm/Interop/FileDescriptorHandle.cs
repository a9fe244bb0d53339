using System.Runtime.InteropServices;

namespace Platform.Engine.Kvm.Interop;

/// <summary>
/// A Unix file descriptor (the KVM system, a VM, a vCPU, an eventfd, an epoll set, a TAP) closed exactly once, as
/// crosvm's <c>SafeDescriptor</c>. Only -1 is invalid: 0 is an ordinary descriptor number.
/// </summary>
/// <remarks>
/// The number is never handed out bare. System calls take the handle itself (<see cref="LibcNative"/>'s imports
/// marshal it with a reference held for the call), and where the kernel wants the number inside a struct
/// (<c>kvm_irqfd</c>, <c>kvm_ioeventfd</c>) the caller takes a <see cref="Lease"/> for as long as the struct is in
/// use: a <see cref="SafeHandle.Dispose()"/> on another thread then refuses new use at once but leaves the close(2)
/// to the end of the lease, so the number cannot be closed and reused by the next open while the kernel reads it.
/// </remarks>
internal sealed class FileDescriptorHandle : SafeHandle
{
    private const int InvalidDescriptor = -1;

    private volatile bool _disposed;

    /// <summary>An invalid handle, for the P/Invoke marshaller to fill with a returned descriptor.</summary>
    public FileDescriptorHandle()
        : base(InvalidDescriptor, ownsHandle: true)
    {
    }

    /// <summary>Wraps <paramref name="fd"/>; with <paramref name="ownsHandle"/> false it is never closed by this handle.</summary>
    public FileDescriptorHandle(int fd, bool ownsHandle = true)
        : base(InvalidDescriptor, ownsHandle)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(fd, InvalidDescriptor);
        SetHandle(fd);
    }

    public override bool IsInvalid => handle == InvalidDescriptor;

    /// <summary>
    /// True from the first <see cref="SafeHandle.Dispose()"/> on, even while a lease or a call in flight still holds
    /// the descriptor open (<see cref="SafeHandle.IsClosed"/> turns true only when the last of them ends).
    /// </summary>
    public bool IsDisposed => _disposed;

    /// <summary>
    /// Holds the descriptor open until the lease is disposed, and gives its number for that time. Throws
    /// <see cref="ObjectDisposedException"/> once the handle is disposed. Use it with <c>using</c>, once.
    /// </summary>
    public FileDescriptorLease Lease()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new(this);
    }

    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        base.Dispose(disposing);
    }

    /// <summary>close(2), once: <see cref="SafeHandle"/> calls this when the last reference (lease or call) ends.</summary>
    protected override bool ReleaseHandle() => LibcNative.Close((int)handle) == 0;
}

/// <summary>
/// A reference on a <see cref="FileDescriptorHandle"/> (DangerousAddRef … DangerousRelease), so its number stays this
/// descriptor while the lease lives. Made by <see cref="FileDescriptorHandle.Lease"/>.
/// </summary>
internal ref struct FileDescriptorLease
{
    private FileDescriptorHandle? _handle;

    internal FileDescriptorLease(FileDescriptorHandle handle)
    {
        bool added = false;
        handle.DangerousAddRef(ref added); // throws ObjectDisposedException once the handle is closed
        _handle = handle;
        Fd = (int)handle.DangerousGetHandle();
    }

    /// <summary>The descriptor's number, valid until <see cref="Dispose"/>.</summary>
    public int Fd { get; }

    public void Dispose()
    {
        var handle = _handle;
        _handle = null;
        handle?.DangerousRelease();
    }
}
