using System.Diagnostics.Metrics;

namespace Platform.Devices.Abstractions;

/// <summary>
/// The instruments devices share to count what a guest did wrong: bad accesses are counted, not thrown.
/// Exported through <see cref="System.Diagnostics.Metrics"/> so the VMM's <c>query-stats</c> and any
/// OpenTelemetry listener can read them.
/// </summary>
public static class DeviceCounters
{
    public const string MeterName = "Platform.Devices";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Accesses to an offset or with a width the device does not implement, tagged with the device.</summary>
    public static readonly Counter<long> BadAccesses = Meter.CreateCounter<long>(
        "platform.device.bad_accesses", description: "Guest accesses a device ignored (unknown register or width)");

    /// <summary>Times a virtio device went to DEVICE_NEEDS_RESET (malformed queues or requests), tagged with the device.</summary>
    public static readonly Counter<long> VirtioErrors = Meter.CreateCounter<long>(
        "platform.virtio.errors", description: "Virtio devices put into NEEDS_RESET by a driver's mistake");
}
