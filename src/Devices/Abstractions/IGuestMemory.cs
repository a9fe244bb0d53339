namespace Platform.Devices.Abstractions;

/// <summary>
/// Guest physical memory as devices see it: bounds-checked copies in and out, and checked views for I/O in place.
/// Every guest-supplied address and length goes through these checks, so a device handed a bad descriptor gets
/// <c>false</c>, never a host fault.
/// </summary>
public interface IGuestMemory
{
    /// <summary>Copies guest memory at <paramref name="address"/> into <paramref name="destination"/>; false if any byte is outside RAM.</summary>
    bool TryRead(ulong address, Span<byte> destination);

    /// <summary>Copies <paramref name="source"/> into guest memory; false (and nothing written) if any byte is outside RAM.</summary>
    bool TryWrite(ulong address, ReadOnlySpan<byte> source);

    /// <summary>True when the whole range lies in guest RAM (and <paramref name="address"/> + <paramref name="length"/> does not overflow).</summary>
    bool IsValidRange(ulong address, ulong length);

    /// <summary>
    /// A view of [<paramref name="address"/>, + <paramref name="length"/>) in place, so a device can hand guest RAM
    /// straight to a system call (a disk read lands in the guest's buffer with no copy). False when any byte is
    /// outside RAM, or when the range is longer than the implementation views in one piece (at least
    /// <see cref="MinViewLength"/> bytes are always viewable): the caller then copies with <see cref="TryRead"/> /
    /// <see cref="TryWrite"/>.
    /// </summary>
    /// <remarks>
    /// The view starts at the same offset within a 4 KiB page as <paramref name="address"/> does, so a device can tell
    /// from guest addresses alone whether a buffer meets O_DIRECT's alignment. It is valid until the memory is
    /// released, which the engine does only after every device has stopped and finished its I/O (reset waits for
    /// requests in flight): a device must never keep a view past its reset.
    /// </remarks>
    bool TryGetMemory(ulong address, int length, out Memory<byte> memory);

    /// <summary>The longest range every implementation views in one piece (512 MiB).</summary>
    public const int MinViewLength = 512 << 20;
}
