using Platform.Web.Services.History;

namespace Platform.Web.Components.History;

/// <summary>The VM list's CPU column: the last hour as 60 one-minute means (a stopped minute is 0).</summary>
public static class CpuSparkline
{
    private const int PointsPerValue = 6; // 10 s points per minute

    public static double[] LastHour(HistoryStore store, Guid vmId, DateTimeOffset now)
    {
        var cpu = store.ReadVm(vmId, HistoryRange.Hour, now).Of("cpu");
        if (cpu.All(v => v is null))
        {
            return [];
        }

        return [.. cpu.Chunk(PointsPerValue).Select(minute => minute.Average(v => v ?? 0))];
    }
}
