using Platform.Contracts.Control;
using Platform.Web.Services.Runtime;

namespace Platform.Web.Services.History;

/// <summary>A VM's history values (in <see cref="HistorySeriesSets.Vm"/>'s order) from two of its counter samples.</summary>
public static class VmHistoryValues
{
    /// <summary>
    /// Rates over the time between the samples, gauges from the later one; null when the VM rebooted in between
    /// (its counters started again) or the samples are not in order.
    /// </summary>
    public static double[]? From(VmStatsSample previous, VmStatsSample current)
    {
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(current);
        double seconds = (current.At - previous.At).TotalSeconds;
        if (seconds <= 0 || current.Stats.Boots != previous.Stats.Boots)
        {
            return null;
        }

        var now = current.Stats;
        var then = previous.Stats;
        double Rate(long later, long earlier) => Math.Max(0, later - earlier) / seconds;
        double Device(VmmStats stats, Func<DeviceStats, bool> kind, string counter) =>
            stats.Devices.Where(kind).Sum(d => d.Counters.GetValueOrDefault(counter));
        double DeviceRate(Func<DeviceStats, bool> kind, string counter) =>
            Math.Max(0, Device(now, kind, counter) - Device(then, kind, counter)) / seconds;

        return
        [
            Rate(now.Vcpus.Sum(v => v.CpuTimeMs), then.Vcpus.Sum(v => v.CpuTimeMs)) / 10.0, // ms per s → percent
            now.VmmRssBytes,
            now.GuestMemoryBytes,
            DeviceRate(IsDisk, "read_bytes"),
            DeviceRate(IsDisk, "write_bytes"),
            DeviceRate(IsDisk, "read_requests"),
            DeviceRate(IsDisk, "write_requests"),
            DeviceRate(IsNic, "rx_bytes"),
            DeviceRate(IsNic, "tx_bytes"),
            DeviceRate(IsNic, "rx_frames"),
            DeviceRate(IsNic, "tx_frames"),
            Rate(now.Vcpus.Sum(v => v.Exits), then.Vcpus.Sum(v => v.Exits)),
        ];
    }

    /// <summary>A disk is what counts bytes read and written (as the metrics endpoint tells them apart).</summary>
    private static bool IsDisk(DeviceStats device) => device.Counters.ContainsKey("read_bytes") && device.Counters.ContainsKey("write_bytes");

    private static bool IsNic(DeviceStats device) => device.Counters.ContainsKey("rx_frames") && device.Counters.ContainsKey("tx_frames");
}
