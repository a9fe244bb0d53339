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
public sealed class GuestMemory : IGuestMemory, IDisposable
{
    private const ulong WindowStride = IGuestMemory.MinViewLength;
    private const ulong WindowLength = 2 * WindowStride;

    private readonly MemoryRegion[] _regions;
    private readonly MappedRegion[] _mappings;
    private readonly GuestMemoryWindow[][] _windows;
    private volatile bool _disposed;

    private GuestMemory(MemoryRegion[] regions, MappedRegion[] mappings)
    {
        _regions = regions;
        _mappings = mappings;
        _windows = new GuestMemoryWindow[regions.Length][];
        for (int i = 0; i < regions.Length; i++)
        {
            var region = regions[i];
            var windows = new GuestMemoryWindow[(int)((region.Size + WindowStride - 1) / WindowStride)];
            for (int w = 0; w < windows.Length; w++)
            {
                ulong offset = (ulong)w * WindowStride;
                windows[w] = new GuestMemoryWindow(mappings[i], offset, (int)Math.Min(WindowLength, region.Size - offset));
            }

            _windows[i] = windows;
        }
    }

    public IReadOnlyList<MemoryRegion> Regions => _regions;

    /// <summary>Total bytes of RAM.</summary>
    public ulong Size => _regions.Aggregate(0ul, (sum, r) => sum + r.Size);

    /// <summary>Maps <paramref name="layout"/>'s regions. Memory is reserved lazily: untouched pages cost nothing.</summary>
    public static GuestMemory Allocate(IEnumerable<(ulong GuestAddress, ulong Size)> layout)
    {
        var regions = new List<MemoryRegion>();
        var mappings = new List<MappedRegion>();
        try
        {
            foreach (var (guestAddress, size) in layout)
            {
                var mapping = MappedRegion.MapAnonymous((nuint)size, "guest memory", "Ask for less --memory.");
                mappings.Add(mapping);
                // Transparent huge pages cut TLB misses for the guest; the hint may be refused, which is harmless.
                const int MadvHugepage = 14;
                mapping.Advise(MadvHugepage);
                regions.Add(new MemoryRegion(guestAddress, size, mapping.Address));
            }
        }
        catch
        {
            foreach (var mapping in mappings)
            {
                mapping.Dispose();
            }

            throw;
        }

        return new GuestMemory([.. regions], [.. mappings]);
    }

    public bool IsValidRange(ulong address, ulong length) => FindRegion(address, length) >= 0;

    public bool TryRead(ulong address, Span<byte> destination)
    {
        int region = FindRegion(address, (ulong)destination.Length);
        if (region < 0)
        {
            return false;
        }

        Span(region, address, destination.Length).CopyTo(destination);
        return true;
    }

    public bool TryWrite(ulong address, ReadOnlySpan<byte> source)
    {
        int region = FindRegion(address, (ulong)source.Length);
        if (region < 0)
        {
            return false;
        }

        source.CopyTo(Span(region, address, source.Length));
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
        FindRegion(address, (ulong)length) is >= 0 and var region
            ? Span(region, address, length)
            : throw new ArgumentOutOfRangeException(nameof(address), $"0x{address:x}+0x{length:x} is not guest RAM");

    /// <summary>The index of the region that holds the whole range, or -1 (also once disposed).</summary>
    private int FindRegion(ulong address, ulong length)
    {
        if (_disposed)
        {
            return -1;
        }

        for (int i = 0; i < _regions.Length; i++)
        {
            if (_regions[i].Contains(address, length))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>A range of region <paramref name="region"/> that <see cref="FindRegion"/> found; the mapping checks the bounds again.</summary>
    private Span<byte> Span(int region, ulong address, int length) =>
        _mappings[region].AsSpan(address - _regions[region].GuestAddress, length);

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var mapping in _mappings)
        {
            mapping.Dispose(); // unmapped now, or when the last pinned I/O buffer in it is released
        }
    }
}

/// <summary>One contiguous stretch of guest RAM and where it is mapped in this process.</summary>
public readonly record struct MemoryRegion(ulong GuestAddress, ulong Size, nint HostAddress)
{
    public ulong End => GuestAddress + Size;

    /// <summary>Overflow-safe: a range whose end wraps past 2^64 is never contained.</summary>
    public bool Contains(ulong address, ulong length) =>
        address >= GuestAddress && length <= Size && address - GuestAddress <= Size - length;
}
