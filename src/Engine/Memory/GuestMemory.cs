using Platform.Devices.Abstractions;
using Platform.Engine.Kvm.Interop;

namespace Platform.Engine.Memory;

/// <summary>
/// Guest RAM: anonymous private mappings, one per region of the physical map (below the PCI hole and above 4 GiB),
/// each registered with KVM as a memory slot. All access is bounds-checked against the regions.
/// </summary>
public sealed unsafe class GuestMemory : IGuestMemory, IDisposable
{
    private readonly MemoryRegion[] _regions;
    private bool _disposed;

    private GuestMemory(MemoryRegion[] regions) => _regions = regions;

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
