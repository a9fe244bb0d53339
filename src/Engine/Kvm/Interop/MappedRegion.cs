using System.Runtime.InteropServices;

namespace Platform.Engine.Kvm.Interop;

/// <summary>
/// One mmap'ed range (guest RAM, video memory, a vCPU's kvm_run page), unmapped exactly once, as crosvm's
/// <c>MemoryMapping</c>. A <see cref="SafeHandle"/> over the address: <see cref="SafeHandle.Dispose()"/> refuses new
/// use at once (<see cref="ObjectDisposedException"/>) but unmaps only when the last <see cref="Pin"/> is released.
/// </summary>
/// <remarks>
/// A span from <see cref="AsSpan()"/> is not counted: it is valid until the owner disposes the region, which the
/// engine orders after every user (devices, vCPUs and the VNC server stop first). Whatever keeps the memory across
/// a call it does not control (I/O in flight, a pointer handed to another thread) takes a <see cref="Pin"/>.
/// </remarks>
internal sealed class MappedRegion : SafeHandle
{
    private volatile bool _disposed;

    private MappedRegion(nint address, nuint length)
        : base(LibcNative.MapFailed, ownsHandle: true)
    {
        SetHandle(address);
        Length = length;
    }

    public override bool IsInvalid => handle == LibcNative.MapFailed;

    /// <summary>True from the first dispose on, even while a pin still keeps the memory mapped.</summary>
    public bool IsDisposed => _disposed;

    /// <summary>The mapping's length in bytes.</summary>
    public nuint Length { get; }

    /// <summary>Where the mapping starts in this process (what a KVM memory slot points at). Throws once disposed.</summary>
    public nint Address
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return handle;
        }
    }

    /// <summary>
    /// A private anonymous mapping of <paramref name="length"/> zeroed bytes, reserved lazily (untouched pages cost
    /// nothing). Throws <see cref="InvalidOperationException"/> naming <paramref name="what"/>, with the errno's text
    /// and <paramref name="advice"/>, when the host refuses.
    /// </summary>
    public static MappedRegion MapAnonymous(nuint length, string what, string? advice = null)
    {
        ArgumentOutOfRangeException.ThrowIfZero(length);
        nint address = LibcNative.MmapAnonymous(length, MemoryProtection.Read | MemoryProtection.Write,
            MapFlags.Private | MapFlags.NoReserve);
        return address == LibcNative.MapFailed
            ? throw new InvalidOperationException(
                $"Could not map {length >> 20} MiB of {what}: {Marshal.GetPInvokeErrorMessage(LibcNative.LastError)}.{(advice is null ? "" : " " + advice)}")
            : new MappedRegion(address, length);
    }

    /// <summary>A shared read/write mapping of <paramref name="fd"/> from offset 0 (the vCPU's kvm_run page).</summary>
    public static MappedRegion MapShared(FileDescriptorHandle fd, nuint length, string what)
    {
        ArgumentOutOfRangeException.ThrowIfZero(length);
        nint address = LibcNative.Mmap(0, length, MemoryProtection.Read | MemoryProtection.Write, MapFlags.Shared, fd, 0);
        return address == LibcNative.MapFailed
            ? throw new KvmException($"mmap of {what}", LibcNative.LastError)
            : new MappedRegion(address, length);
    }

    /// <summary>madvise(2) over the whole mapping; false when the kernel refused the hint.</summary>
    public bool Advise(int advice)
    {
        bool added = false;
        DangerousAddRef(ref added);
        try
        {
            return LibcNative.Madvise(handle, Length, advice) == 0;
        }
        finally
        {
            DangerousRelease();
        }
    }

    /// <summary>The whole mapping as bytes (at most 2 GiB). Throws once disposed.</summary>
    public Span<byte> AsSpan() => AsSpan(0, checked((int)Length));

    /// <summary><paramref name="length"/> bytes from <paramref name="offset"/>, bounds-checked. Throws once disposed.</summary>
    public unsafe Span<byte> AsSpan(ulong offset, int length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (offset > Length || (ulong)length > Length - offset)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"0x{offset:x}+0x{length:x} is outside the 0x{Length:x}-byte mapping.");
        }

        // SAFETY: [offset, offset + length) lies inside the mapping (checked above), which stays mapped until the
        // owner disposes it; the owner orders that after every user of a span (see the remarks).
        return new Span<byte>((byte*)handle + offset, length);
    }

    /// <summary>
    /// Holds the mapping (it is not unmapped while pinned, even across <see cref="SafeHandle.Dispose()"/>) and returns
    /// the address of byte <paramref name="offset"/>; <see cref="Unpin"/> once for each pin. Throws once disposed.
    /// </summary>
    public unsafe byte* Pin(ulong offset)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, (ulong)Length);
        bool added = false;
        DangerousAddRef(ref added); // throws ObjectDisposedException once the last reference is gone
        // SAFETY: offset is within the mapping (checked above), and the reference just taken keeps it mapped until
        // the matching Unpin.
        return (byte*)handle + offset;
    }

    /// <summary>Ends one <see cref="Pin"/>; the last one after a dispose unmaps.</summary>
    public void Unpin() => DangerousRelease();

    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        base.Dispose(disposing);
    }

    /// <summary>munmap(2), once: <see cref="SafeHandle"/> calls this when the last reference ends.</summary>
    protected override bool ReleaseHandle() => LibcNative.Munmap(handle, Length) == 0;
}
