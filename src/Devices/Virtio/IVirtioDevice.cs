using Platform.Devices.Abstractions;
using Platform.Devices.Virtio.Queue;

namespace Platform.Devices.Virtio;

/// <summary>
/// A virtio device without its transport (Cloud Hypervisor's <c>VirtioDevice</c>): what it is, its queues and
/// features, its configuration space, and its life — activated with queues, reset back to nothing. A transport
/// (<see cref="VirtioPciDevice"/>) puts it on a bus.
/// </summary>
/// <remarks>
/// The transport calls every member on vCPU threads except <see cref="QueueNotified"/>, which may also come from the
/// engine's ioeventfd thread. Queue work happens on threads the device owns, never on the caller's.
/// </remarks>
public interface IVirtioDevice : IDisposable
{
    VirtioDeviceType DeviceType { get; }

    /// <summary>One entry per queue: its maximum size (a power of two).</summary>
    IReadOnlyList<ushort> QueueMaxSizes { get; }

    /// <summary>Device-specific feature bits offered (the transport adds <see cref="VirtioFeatures.Transport"/>).</summary>
    ulong DeviceFeatures { get; }

    /// <summary>Bytes of device configuration space (0 when there is none).</summary>
    int ConfigSize { get; }

    /// <summary>Reads configuration space; the transport has checked the range lies within <see cref="ConfigSize"/>.</summary>
    void ReadConfig(int offset, Span<byte> data);

    void WriteConfig(int offset, ReadOnlySpan<byte> data);

    /// <summary>The driver set DRIVER_OK: start working on the queues (all already validated and active).</summary>
    void Activate(VirtioActivation activation);

    /// <summary>The driver notified queue <paramref name="queueIndex"/>. Cheap and non-blocking: wakes a worker.</summary>
    void QueueNotified(int queueIndex);

    /// <summary>The driver wrote 0 to the status: stop every worker (waiting for them) and forget the queues.</summary>
    void Reset();
}

/// <summary>What a device may ask of its transport, from any of its threads.</summary>
public interface IVirtioTransport
{
    /// <summary>The device put buffers in queue <paramref name="queueIndex"/>'s used ring and the driver wants to hear of it.</summary>
    void SignalUsedBuffers(int queueIndex);

    /// <summary>The device changed its configuration space: bump the generation and raise a configuration interrupt.</summary>
    void SignalConfigChanged();

    /// <summary>The device cannot go on (a queue faulted, a malformed request): DEVICE_NEEDS_RESET and a configuration interrupt.</summary>
    void ReportDeviceError(string reason);
}

/// <summary>Everything a device needs once the driver is ready: memory, negotiated features, queues, and its transport.</summary>
public sealed class VirtioActivation(IGuestMemory memory, ulong features, IReadOnlyList<VirtQueue?> queues, IVirtioTransport transport)
{
    public IGuestMemory Memory { get; } = memory;

    /// <summary>The features both sides agreed on at FEATURES_OK.</summary>
    public ulong Features { get; } = features;

    /// <summary>One per queue; null where the driver did not enable the queue.</summary>
    public IReadOnlyList<VirtQueue?> Queues { get; } = queues;

    public IVirtioTransport Transport { get; } = transport;

    public bool Has(ulong feature) => (Features & feature) != 0;
}
