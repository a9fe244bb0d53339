using System.Buffers;
using System.Runtime.InteropServices;
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
public sealed unsafe class VideoMemory : MemoryManager<byte>
{
    private nint _address;
    private readonly int _size;

    private VideoMemory(nint address, int size)
    {
        _address = address;
        _size = size;
    }

    /// <summary>Maps <paramref name="size"/> bytes: a power of two from 1 MiB to 256 MiB, as a PCI BAR and the std-vga need.</summary>
    public static VideoMemory Allocate(int size = StdVga.DefaultVideoMemorySize)
    {
        if (size < StdVga.MinVideoMemorySize || size > StdVga.MaxVideoMemorySize || (size & (size - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "Video memory must be a power of two from 1 MiB to 256 MiB.");
        }

        nint address = LibcNative.Mmap(0, (nuint)size, MemoryProtection.Read | MemoryProtection.Write,
            MapFlags.Private | MapFlags.Anonymous | MapFlags.NoReserve, -1, 0);
        if (address == LibcNative.MapFailed)
        {
            throw new InvalidOperationException(
                $"Could not map {size >> 20} MiB of video memory: {Marshal.GetPInvokeErrorMessage(LibcNative.LastError)}.");
        }

        return new VideoMemory(address, size);
    }

    /// <summary>Where the mapping is in this process (what KVM's memory slot points at).</summary>
    public nint HostAddress => _address;

    public int Size => _size;

    public override Span<byte> GetSpan()
    {
        ObjectDisposedException.ThrowIf(_address == 0, this);
        // SAFETY: the mapping is _size bytes and stays mapped until Dispose, which the owners order after every reader.
        return new Span<byte>((void*)_address, _size);
    }

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ObjectDisposedException.ThrowIf(_address == 0, this);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)elementIndex, (uint)_size, nameof(elementIndex));
        // SAFETY: mmap'ed memory never moves; the index is within the mapping (checked above).
        return new MemoryHandle((byte*)_address + elementIndex);
    }

    public override void Unpin()
    {
        // Nothing to do: the mapping never moves.
    }

    protected override void Dispose(bool disposing)
    {
        nint address = Interlocked.Exchange(ref _address, 0);
        if (address != 0)
        {
            LibcNative.Munmap(address, (nuint)_size);
        }
    }
}
