using System.Buffers;

namespace Platform.Engine.Memory;

/// <summary>
/// Up to 1 GiB of one guest RAM region as a <see cref="MemoryManager{T}"/>, so devices can hold guest buffers as
/// <see cref="Memory{T}"/> and hand them to system calls (preadv/pwritev) without a copy and without unsafe code.
/// </summary>
/// <remarks>
/// The mapping belongs to <see cref="GuestMemory"/>; this only views it. After the guest memory is disposed the window
/// refuses to hand out spans or pins (ObjectDisposedException), but a span taken before would dangle, which is why the
/// engine stops every device, and each device waits for its I/O, before guest memory goes.
/// </remarks>
internal sealed unsafe class GuestMemoryWindow(GuestMemory owner, nint hostAddress, int length) : MemoryManager<byte>
{
    public override Span<byte> GetSpan()
    {
        ObjectDisposedException.ThrowIf(owner.IsDisposed, owner);
        // SAFETY: [hostAddress, + length) lies inside one mapping of the owner (GuestMemory's constructor), which stays
        // mapped until the owner is disposed, checked above; the engine orders that after every device user.
        return new Span<byte>((void*)hostAddress, length);
    }

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ObjectDisposedException.ThrowIf(owner.IsDisposed, owner);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)elementIndex, (uint)length, nameof(elementIndex));
        // SAFETY: an mmap'ed mapping never moves, and the index is within the window (checked above).
        return new MemoryHandle((byte*)hostAddress + elementIndex);
    }

    public override void Unpin()
    {
        // Nothing to do: the mapping never moves.
    }

    protected override void Dispose(bool disposing)
    {
        // The owner unmaps; a window has nothing of its own to release.
    }
}
