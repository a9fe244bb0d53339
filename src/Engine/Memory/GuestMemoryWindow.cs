using System.Buffers;
using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Memory;

/// <summary>
/// Up to 1 GiB of one guest RAM region as a <see cref="MemoryManager{T}"/>, so devices can hold guest buffers as
/// <see cref="Memory{T}"/> and hand them to system calls (preadv/pwritev) without a copy and without unsafe code.
/// </summary>
/// <remarks>
/// The mapping belongs to <see cref="GuestMemory"/>; this only views it. After the guest memory is disposed the window
/// refuses to hand out spans or pins (ObjectDisposedException). A pin holds the mapping (<see cref="MappedRegion.Pin"/>),
/// so I/O in flight on a pinned buffer never lands in unmapped memory; a span taken before the dispose would dangle,
/// which is why the engine stops every device, and each device waits for its I/O, before guest memory goes.
/// </remarks>
internal sealed class GuestMemoryWindow(MappedRegion mapping, ulong offset, int length) : MemoryManager<byte>
{
    public override Span<byte> GetSpan() => mapping.AsSpan(offset, length); // bounds- and dispose-checked

    public override unsafe MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)elementIndex, (uint)length, nameof(elementIndex));
        // SAFETY: the index is within the window, and the window within the mapping (GuestMemory's constructor); the
        // pin keeps the mapping in place until the MemoryHandle's Dispose calls Unpin.
        return new MemoryHandle(mapping.Pin(offset + (uint)elementIndex), pinnable: this);
    }

    public override void Unpin() => mapping.Unpin();

    protected override void Dispose(bool disposing)
    {
        // The owner unmaps; a window has nothing of its own to release.
    }
}
