namespace Platform.Devices.Abstractions;

/// <summary>
/// Guest physical memory as devices see it: bounds-checked copies in and out. Every guest-supplied address and
/// length goes through these checks, so a device handed a bad descriptor gets <c>false</c>, never a host fault.
/// </summary>
public interface IGuestMemory
{
    /// <summary>Copies guest memory at <paramref name="address"/> into <paramref name="destination"/>; false if any byte is outside RAM.</summary>
    bool TryRead(ulong address, Span<byte> destination);

    /// <summary>Copies <paramref name="source"/> into guest memory; false (and nothing written) if any byte is outside RAM.</summary>
    bool TryWrite(ulong address, ReadOnlySpan<byte> source);

    /// <summary>True when the whole range lies in guest RAM (and <paramref name="address"/> + <paramref name="length"/> does not overflow).</summary>
    bool IsValidRange(ulong address, ulong length);
}
