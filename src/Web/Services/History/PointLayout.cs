namespace Platform.Web.Services.History;

/// <summary>Where a range's points fall: <see cref="Count"/> buckets of <see cref="StepSeconds"/>, the last holding now.</summary>
internal readonly record struct PointLayout(long Start, long End, long StepSeconds, int Count)
{
    public static PointLayout For(HistoryRange range, DateTimeOffset now)
    {
        long step = (long)HistoryRanges.Step(range).TotalSeconds;
        int count = (int)(HistoryRanges.Duration(range).Ticks / HistoryRanges.Step(range).Ticks);
        long end = (now.ToUnixTimeSeconds() / step * step) + step;
        return new PointLayout(end - (count * step), end, step, count);
    }

    /// <summary>Turns per-point sums (point-major, series-minor) and weights into means, null where nothing was.</summary>
    public HistoryData ToData(HistoryRange range, IReadOnlyList<HistorySeries> series, double[] sums, double[] weights)
    {
        int count = Count;
        var times = new DateTimeOffset[count];
        var values = series.Select(_ => new double?[count]).ToArray();
        for (int point = 0; point < Count; point++)
        {
            times[point] = DateTimeOffset.FromUnixTimeSeconds(Start + (point * StepSeconds));
            if (weights[point] > 0)
            {
                for (int s = 0; s < series.Count; s++)
                {
                    values[s][point] = sums[(point * series.Count) + s] / weights[point];
                }
            }
        }

        return new HistoryData(range, TimeSpan.FromSeconds(StepSeconds), times, series, values);
    }

    /// <summary>No file yet: every point empty.</summary>
    public static HistoryData Empty(HistoryRange range, DateTimeOffset now, IReadOnlyList<HistorySeries> series)
    {
        var layout = For(range, now);
        return layout.ToData(range, series, new double[layout.Count * series.Count], new double[layout.Count]);
    }
}
