using System.Globalization;
using Platform.Web.Extensions;
using Platform.Web.Services.Host;

namespace Platform.Web.Services.History;

/// <summary>Reads /proc/stat, /proc/loadavg, the host's memory and the data folder's file system; a few microseconds.</summary>
internal sealed class ProcHostSampler(IHostInfo host, PlatformOptions options) : IHostSampler
{
    private (long Busy, long Total)? _previousCpu;

    public double[] Sample(int runningVms)
    {
        var memory = host.Read();
        double[] load = ReadLoad();
        var (used, free) = ReadDataFolder();
        return
        [
            CpuBusyPercent(),
            (memory.TotalMemoryMiB - memory.AvailableMemoryMiB) * 1048576.0,
            memory.TotalMemoryMiB * 1048576.0,
            load[0],
            load[1],
            load[2],
            used,
            free,
            runningVms,
        ];
    }

    /// <summary>Busy ticks over all ticks of all CPUs since the last sample.</summary>
    private double CpuBusyPercent()
    {
        if (ProcStat.CpuTicks() is not var (busy, idle))
        {
            return 0;
        }

        long total = busy + idle;
        var previous = _previousCpu;
        _previousCpu = (busy, total);
        return previous is { } p && total > p.Total ? 100.0 * (busy - p.Busy) / (total - p.Total) : 0;
    }

    private static double[] ReadLoad()
    {
        string[] fields = ProcStat.LoadAverageFields();
        return [.. Enumerable.Range(0, 3).Select(i => i < fields.Length && double.TryParse(fields[i], CultureInfo.InvariantCulture, out double v) ? v : 0)];
    }

    private (double Used, double Free) ReadDataFolder()
    {
        try
        {
            var drive = new DriveInfo(options.DataDirectory);
            return (drive.TotalSize - drive.TotalFreeSpace, drive.AvailableFreeSpace);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return (0, 0);
        }
    }
}
