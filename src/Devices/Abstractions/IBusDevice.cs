namespace Platform.Devices.Abstractions;

/// <summary>
/// A device on the port-I/O or MMIO bus. It sees offsets within its own range, never its base address,
/// so the same model can sit at any address (Firecracker's <c>BusDevice</c> does the same).
/// </summary>
/// <remarks>
/// Called on vCPU threads: implementations must not block for long and must not allocate per access.
/// A bad access (unknown offset, odd width) is counted and answered with zeros, never thrown.
/// </remarks>
public interface IBusDevice
{
    /// <summary>The guest reads <paramref name="data"/>.Length bytes at <paramref name="offset"/>.</summary>
    void Read(ulong offset, Span<byte> data);

    /// <summary>The guest writes <paramref name="data"/> at <paramref name="offset"/>.</summary>
    void Write(ulong offset, ReadOnlySpan<byte> data);
}
