using Platform.Devices.Abstractions;

namespace Platform.Devices.Pci;

/// <summary>
/// The PCI MMIO window as one bus device: finds the BAR that decodes an address (binary search over an immutable
/// table the bus swaps when a BAR moves) and forwards the access with the offset inside that BAR. No lock and no
/// allocation per access. Where two BARs overlap (a guest's mistake) the lower one wins.
/// </summary>
public sealed class PciMmioWindow : IBusDevice
{
    private readonly PciBus _bus;
    private readonly ulong _windowStart;
    private long _unclaimed;

    internal PciMmioWindow(PciBus bus, ulong windowStart)
    {
        _bus = bus;
        _windowStart = windowStart;
    }

    /// <summary>Accesses inside the window that no BAR decoded.</summary>
    public long UnclaimedAccesses => Interlocked.Read(ref _unclaimed);

    public void Read(ulong offset, Span<byte> data)
    {
        ulong address = _windowStart + offset;
        var entries = _bus.WindowEntries;
        int i = Find(entries, address, (ulong)data.Length);
        if (i < 0)
        {
            Interlocked.Increment(ref _unclaimed);
            data.Fill(0xFF);
            return;
        }

        entries[i].Function.ReadBar(entries[i].BarIndex, address - entries[i].Start, data);
    }

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        ulong address = _windowStart + offset;
        var entries = _bus.WindowEntries;
        int i = Find(entries, address, (ulong)data.Length);
        if (i < 0)
        {
            Interlocked.Increment(ref _unclaimed);
            return;
        }

        entries[i].Function.WriteBar(entries[i].BarIndex, address - entries[i].Start, data);
    }

    private static int Find(ReadOnlySpan<PciBus.WindowEntry> entries, ulong address, ulong length)
    {
        int lo = 0, hi = entries.Length - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (entries[mid].Start <= address)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        if (found < 0)
        {
            return -1;
        }

        var e = entries[found];
        return address - e.Start < e.Length && length <= e.Length - (address - e.Start) ? found : -1;
    }
}
