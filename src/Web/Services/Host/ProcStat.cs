using System.Globalization;

namespace Platform.Web.Services.Host;

/// <summary>The host's CPU ticks and load averages as /proc gives them, for /metrics and the history alike.</summary>
internal static class ProcStat
{
    /// <summary>
    /// Busy and idle ticks (USER_HZ) of all CPUs since boot, from the first line of /proc/stat
    /// ("cpu  user nice system idle iowait irq softirq steal guest guest_nice"; guest time is already in user, so only
    /// the first eight count; idle includes iowait). Null when the file cannot be read.
    /// </summary>
    public static (long Busy, long Idle)? CpuTicks()
    {
        string? line = ReadFirstLine("/proc/stat");
        if (line is null || !line.StartsWith("cpu ", StringComparison.Ordinal))
        {
            return null;
        }

        long[] ticks = line[4..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(8)
            .Select(t => long.Parse(t, CultureInfo.InvariantCulture)).ToArray();
        long idle = ticks[3] + (ticks.Length > 4 ? ticks[4] : 0);
        return (ticks.Sum() - idle, idle);
    }

    /// <summary>The 1, 5 and 15 minute load averages as /proc/loadavg writes them (fewer when it cannot be read).</summary>
    public static string[] LoadAverageFields() => (ReadFirstLine("/proc/loadavg")?.Split(' ') ?? []).Take(3).ToArray();

    private static string? ReadFirstLine(string path)
    {
        try
        {
            using var reader = new StreamReader(path);
            return reader.ReadLine();
        }
        catch (IOException)
        {
            return null;
        }
    }
}
