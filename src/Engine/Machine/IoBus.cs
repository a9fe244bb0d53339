using Platform.Devices.Abstractions;

namespace Platform.Engine.Machine;

/// <summary>
/// A bus (port I/O or MMIO) that dispatches an access to the device whose range holds it, passing the offset into
/// that range. Ranges are kept sorted in an array that changes by replacement, and found by binary search, so an exit
/// costs no allocation and no lock; a range may move while the guest runs (the PIIX4's PM block follows its PMBASE).
/// Accesses nobody claims are counted and read as all ones, as on a PC.
/// </summary>
public sealed class IoBus
{
    private readonly Lock _changeLock = new();
    private BusRange[] _ranges = [];
    private long _unclaimedReads;
    private long _unclaimedWrites;

    public IoBus(string name) => Name = name;

    public string Name { get; }

    public long UnclaimedReads => Interlocked.Read(ref _unclaimedReads);

    public long UnclaimedWrites => Interlocked.Read(ref _unclaimedWrites);

    public IReadOnlyList<BusRange> Ranges => _ranges;

    /// <summary>Adds a device at [<paramref name="start"/>, start + <paramref name="length"/>); overlapping ranges are refused.</summary>
    public void Register(ulong start, ulong length, IBusDevice device)
    {
        if (length == 0 || start + length < start)
        {
            throw new ArgumentOutOfRangeException(nameof(length), $"Bad range 0x{start:x}+0x{length:x} on the {Name} bus.");
        }

        lock (_changeLock)
        {
            foreach (var r in _ranges)
            {
                if (start < r.Start + r.Length && r.Start < start + length)
                {
                    throw new InvalidOperationException(
                        $"0x{start:x}+0x{length:x} overlaps {r.Device.GetType().Name} at 0x{r.Start:x}+0x{r.Length:x} on the {Name} bus.");
                }
            }

            var ranges = _ranges.Append(new BusRange(start, length, device)).OrderBy(r => r.Start).ToArray();
            Volatile.Write(ref _ranges, ranges);
        }
    }

    /// <summary>Removes <paramref name="device"/>'s range at <paramref name="start"/>; false when it is not there.</summary>
    public bool Unregister(ulong start, IBusDevice device)
    {
        lock (_changeLock)
        {
            var ranges = _ranges.Where(r => !(r.Start == start && ReferenceEquals(r.Device, device))).ToArray();
            if (ranges.Length == _ranges.Length)
            {
                return false;
            }

            Volatile.Write(ref _ranges, ranges);
            return true;
        }
    }

    /// <summary>True if a device took the read; false means unclaimed (data filled with 0xFF).</summary>
    public bool Read(ulong address, Span<byte> data)
    {
        var ranges = Volatile.Read(ref _ranges);
        int index = Find(ranges, address);
        if (index < 0 || address + (ulong)data.Length > ranges[index].Start + ranges[index].Length)
        {
            Interlocked.Increment(ref _unclaimedReads);
            data.Fill(0xFF);
            return false;
        }

        ranges[index].Device.Read(address - ranges[index].Start, data);
        return true;
    }

    public bool Write(ulong address, ReadOnlySpan<byte> data)
    {
        var ranges = Volatile.Read(ref _ranges);
        int index = Find(ranges, address);
        if (index < 0 || address + (ulong)data.Length > ranges[index].Start + ranges[index].Length)
        {
            Interlocked.Increment(ref _unclaimedWrites);
            return false;
        }

        ranges[index].Device.Write(address - ranges[index].Start, data);
        return true;
    }

    private static int Find(BusRange[] ranges, ulong address)
    {
        int lo = 0, hi = ranges.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            var r = ranges[mid];
            if (address < r.Start)
            {
                hi = mid - 1;
            }
            else if (address >= r.Start + r.Length)
            {
                lo = mid + 1;
            }
            else
            {
                return mid;
            }
        }

        return -1;
    }
}

public readonly record struct BusRange(ulong Start, ulong Length, IBusDevice Device);
