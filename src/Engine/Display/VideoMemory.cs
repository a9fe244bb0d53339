using System.Buffers;
using Platform.Devices.Display;
using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Display;

/// <summary>
/// The std-vga's video memory: an anonymous mapping of its own (lazily backed: untouched pages cost nothing), which
/// the device and the VNC server see as <see cref="Memory{T}"/> and KVM maps into the guest at PCI BAR 0.
/// </summary>
/// <remarks>
/// Whoever reads it must stop before <see cref="IDisposable.Dispose"/> unmaps it: the VNC server is disposed (after
/// which it never reads its source again) and the machine's vCPUs are stopped first. A span taken earlier would
/// point at unmapped memory, so nothing keeps one beyond a call.
/// </remarks>
public sealed class VideoMemory : MemoryManager<byte>
{
    private readonly MappedRegion _mapping;
    private readonly int _size;

    private VideoMemory(MappedRegion mapping, int size)
    {
        _mapping = mapping;
        _size = size;
    }

    /// <summary>Maps <paramref name="size"/> bytes: a power of two from 1 MiB to 256 MiB, as a PCI BAR and the std-vga need.</summary>
    public static VideoMemory Allocate(int size = StdVga.DefaultVideoMemorySize)
    {
        if (size < StdVga.MinVideoMemorySize || size > StdVga.MaxVideoMemorySize || (size & (size - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "Video memory must be a power of two from 1 MiB to 256 MiB.");
        }

        return new VideoMemory(MappedRegion.MapAnonymous((nuint)size, "video memory"), size);
    }

    /// <summary>Where the mapping is in this process (what KVM's memory slot points at). Throws once disposed.</summary>
    public nint HostAddress => _mapping.Address;

    public int Size => _size;

    /// <summary>The whole video memory; throws <see cref="ObjectDisposedException"/> once disposed.</summary>
    public override Span<byte> GetSpan() => _mapping.AsSpan();

    public override unsafe MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)elementIndex, (uint)_size, nameof(elementIndex));
        // SAFETY: the index is within the mapping (checked above), and the pin keeps it mapped until the
        // MemoryHandle's Dispose calls Unpin.
        return new MemoryHandle(_mapping.Pin((uint)elementIndex), pinnable: this);
    }

    public override void Unpin() => _mapping.Unpin();

    protected override void Dispose(bool disposing) => _mapping.Dispose();
}
