using Platform.Devices.Abstractions;
using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Memory;

/// <summary>
/// Guest RAM: anonymous private mappings, one per region of the physical map (below the PCI hole and above 4 GiB),
/// each registered with KVM as a memory slot. All access is bounds-checked against the regions.
/// </summary>
/// <remarks>
/// Devices get <see cref="Memory{T}"/> views for I/O in place (<see cref="TryGetMemory"/>) from
/// <see cref="GuestMemoryWindow"/>s: a <see cref="Memory{T}"/> is at most 2 GiB long, so each region is covered by
/// windows of 1 GiB that start every 512 MiB, and any range of up to 512 MiB inside a region lies wholly in one.
/// </remarks>
public sealed unsafe class GuestMemory : IGuestMemory, IDisposable
{
    private const ulong WindowStride = IGuestMemory.MinViewLength;
    private const ulong WindowLength = 2 * WindowStride;

    private readonly MemoryRegion[] _regions;
    private readonly GuestMemoryWindow[][] _windows;
    private volatile bool _disposed;

    private GuestMemory(MemoryRegion[] regions)
    {
        _regions = regions;
        _windows = new GuestMemoryWindow[regions.Length][];
        for (int i = 0; i < regions.Length; i++)
        {
            var region = regions[i];
            var windows = new GuestMemoryWindow[(int)((region.Size + WindowStride - 1) / WindowStride)];
            for (int w = 0; w < windows.Length; w++)
            {
                ulong offset = (ulong)w * WindowStride;
                windows[w] = new GuestMemoryWindow(this, region.HostAddress + (nint)offset, (int)Math.Min(WindowLength, region.Size - offset));
            }

            _windows[i] = windows;
        }
    }

    /// <summary>True once the mappings are gone: a window then refuses to hand out spans.</summary>
    internal bool IsDisposed => _disposed;

    public IReadOnlyList<MemoryRegion> Regions => _regions;

    /// <summary>Total bytes of RAM.</summary>
    public ulong Size => _regions.Aggregate(0ul, (sum, r) => sum + r.Size);

    /// <summary>Maps <paramref name="layout"/>'s regions. Memory is reserved lazily: untouched pages cost nothing.</summary>
    public static GuestMemory Allocate(IEnumerable<(ulong GuestAddress, ulong Size)> layout)
    {
        var regions = new List<MemoryRegion>();
        try
        {
            foreach (var (guestAddress, size) in layout)
            {
                nint host = LibcNative.Mmap(0, (nuint)size, MemoryProtection.Read | MemoryProtection.Write,
                    MapFlags.Private | MapFlags.Anonymous | MapFlags.NoReserve, -1, 0);
                if (host == LibcNative.MapFailed)
                {
                    throw new InvalidOperationException(
                        $"Could not map {size >> 20} MiB of guest memory: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(LibcNative.LastError)}. Ask for less --memory.");
                }

                // Transparent huge pages cut TLB misses for the guest; the hint may be refused, which is harmless.
                const int MadvHugepage = 14;
                LibcNative.Madvise(host, (nuint)size, MadvHugepage);
                regions.Add(new MemoryRegion(guestAddress, size, host));
            }
        }
        catch
        {
            foreach (var r in regions)
            {
                LibcNative.Munmap(r.HostAddress, (nuint)r.Size);
            }

            throw;
        }

        return new GuestMemory([.. regions]);
    }

    public bool IsValidRange(ulong address, ulong length) => FindRegion(address, length) is not null;

    public bool TryRead(ulong address, Span<byte> destination)
    {
        var region = FindRegion(address, (ulong)destination.Length);
        if (region is null)
        {
            return false;
        }

        region.Value.Span(address, destination.Length).CopyTo(destination);
        return true;
    }

    public bool TryWrite(ulong address, ReadOnlySpan<byte> source)
    {
        var region = FindRegion(address, (ulong)source.Length);
        if (region is null)
        {
            return false;
        }

        source.CopyTo(region.Value.Span(address, source.Length));
        return true;
    }

    public bool TryGetMemory(ulong address, int length, out Memory<byte> memory)
    {
        memory = default;
        if (length < 0 || length > IGuestMemory.MinViewLength || _disposed)
        {
            return false;
        }

        for (int i = 0; i < _regions.Length; i++)
        {
            if (_regions[i].Contains(address, (ulong)length))
            {
                ulong offset = address - _regions[i].GuestAddress;
                var window = _windows[i][(int)(offset / WindowStride)];
                // The window starts at a multiple of the stride and is (up to the region's end) twice as long, so a range
                // of at most one stride that starts in it ends in it.
                memory = window.Memory.Slice((int)(offset % WindowStride), length);
                return true;
            }
        }

        return false;
    }

    /// <summary>A writable view of guest RAM for the loader; throws with the address when the range is not RAM.</summary>
    public Span<byte> GetSpan(ulong address, int length) =>
        FindRegion(address, (ulong)length) is { } region
            ? region.Span(address, length)
            : throw new ArgumentOutOfRangeException(nameof(address), $"0x{address:x}+0x{length:x} is not guest RAM");

    private MemoryRegion? FindRegion(ulong address, ulong length)
    {
        if (_disposed)
        {
            return null;
        }

        foreach (var region in _regions)
        {
            if (region.Contains(address, length))
            {
                return region;
            }
        }

        return null;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var region in _regions)
        {
            LibcNative.Munmap(region.HostAddress, (nuint)region.Size);
        }
    }
}

/// <summary>One contiguous stretch of guest RAM and where it is mapped in this process.</summary>
public readonly unsafe record struct MemoryRegion(ulong GuestAddress, ulong Size, nint HostAddress)
{
    public ulong End => GuestAddress + Size;

    /// <summary>Overflow-safe: a range whose end wraps past 2^64 is never contained.</summary>
    public bool Contains(ulong address, ulong length) =>
        address >= GuestAddress && length <= Size && address - GuestAddress <= Size - length;

    // SAFETY: callers check Contains first; the mapping lives until GuestMemory is disposed.
    internal Span<byte> Span(ulong address, int length) =>
        new((byte*)HostAddress + (address - GuestAddress), length);
}
