using System.Diagnostics.Metrics;
using System.Globalization;
using Platform.Web.Extensions;
using Platform.Web.Services.Host;

namespace Platform.Web.Services.Metrics;

/// <summary>
/// The host's series: CPU time by mode, memory, load, the data folder's file system and the running VMs, read from
/// /proc and the file system when scraped (each a few microseconds; nothing is sampled in between).
/// </summary>
internal sealed class HostMetrics
{
    /// <summary>USER_HZ: /proc/stat counts in 1/100 s on every Linux architecture the dashboard runs on.</summary>
    private const double TicksPerSecond = 100;

    private readonly Meter _meter;

    /// <param name="meters">The app's meter factory, which owns (and disposes) the meter.</param>
    public HostMetrics(IHostInfo host, PlatformOptions options, VmMetrics vms, IMeterFactory meters)
    {
        _meter = meters.Create(PlatformMeter.Name);
        _meter.CreateObservableGauge("platform.host.cpu.count", () => host.Read().CpuCount, "{cpu}", "Logical CPUs the dashboard may use.");
        _meter.CreateObservableCounter("platform.host.cpu.time", CpuTime, "s", "CPU time of all the host's CPUs since boot, by mode (busy or idle).");
        _meter.CreateObservableGauge("platform.host.memory.total", () => host.Read().TotalMemoryMiB << 20, "By", "The host's memory (MemTotal).");
        _meter.CreateObservableGauge("platform.host.memory.available", () => host.Read().AvailableMemoryMiB << 20, "By",
            "Memory new VMs can have without swapping (MemAvailable).");
        _meter.CreateObservableGauge("platform.host.load", Load, "{thread}", "Load average over 1, 5 and 15 minutes.");
        _meter.CreateObservableGauge("platform.host.data.size", () => Drive(options, d => d.TotalSize), "By", "Size of the file system holding the data folder.");
        _meter.CreateObservableGauge("platform.host.data.used", () => Drive(options, d => d.TotalSize - d.TotalFreeSpace), "By",
            "Bytes used on the file system holding the data folder.");
        _meter.CreateObservableGauge("platform.host.data.free", () => Drive(options, d => d.AvailableFreeSpace), "By",
            "Bytes free for the dashboard on the file system holding the data folder.");
        _meter.CreateObservableGauge("platform.host.vms.running", () => vms.RunningCount, "{vm}", "VMs running now (paused ones not counted).");
    }

    private static IEnumerable<Measurement<double>> CpuTime()
    {
        if (ProcStat.CpuTicks() is not var (busy, idle))
        {
            yield break;
        }

        yield return new Measurement<double>(busy / TicksPerSecond, new KeyValuePair<string, object?>("mode", "busy"));
        yield return new Measurement<double>(idle / TicksPerSecond, new KeyValuePair<string, object?>("mode", "idle"));
    }

    private static IEnumerable<Measurement<double>> Load()
    {
        string[] fields = ProcStat.LoadAverageFields();
        string[] periods = ["1m", "5m", "15m"];
        for (int i = 0; i < fields.Length; i++)
        {
            yield return new Measurement<double>(double.Parse(fields[i], CultureInfo.InvariantCulture), new KeyValuePair<string, object?>("period", periods[i]));
        }
    }

    private static IEnumerable<Measurement<long>> Drive(PlatformOptions options, Func<DriveInfo, long> value)
    {
        DriveInfo drive;
        try
        {
            drive = new DriveInfo(options.DataDirectory);
            _ = drive.TotalSize;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // The data folder is gone (a removed disk): no series rather than a failed scrape.
            yield break;
        }

        yield return new Measurement<long>(value(drive));
    }
}
