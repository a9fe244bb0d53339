namespace Platform.Web.Services.History;

/// <summary>
/// Fewer points for a chart, peaks kept: a range's ~360 points are more than a few hundred pixels can show, and every
/// point costs MudBlazor a hover circle with its handlers and an axis label, re-rendered and sent to the browser on each
/// range change. Neighbouring points are merged into buckets and each bucket becomes two points, its minimum and its
/// maximum in the order they happened (the min/max decimation RRDtool and most dashboards use), so a one-sample spike
/// stays as high as it was; a mean would flatten it. The API keeps every point.
/// </summary>
public static class HistoryThinning
{
    /// <summary>
    /// <paramref name="data"/> with at most about <paramref name="maxPoints"/> points (an even number), unchanged when it
    /// has no more than that. A bucket's two points are timed at its start and its middle; its values are, per series,
    /// the smallest and the largest sampled (null only where the whole bucket has nothing), the earlier first.
    /// </summary>
    public static HistoryData MinMax(HistoryData data, int maxPoints)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPoints, 2);
        int count = data.Times.Count;
        if (count <= maxPoints)
        {
            return data;
        }

        int perBucket = (count + (maxPoints / 2) - 1) / (maxPoints / 2);
        int buckets = (count + perBucket - 1) / perBucket;
        var step = data.Step * perBucket;
        var times = new DateTimeOffset[buckets * 2];
        for (int b = 0; b < buckets; b++)
        {
            times[2 * b] = data.Times[b * perBucket];
            times[(2 * b) + 1] = data.Times[b * perBucket] + (step / 2);
        }

        var values = new List<double?[]>(data.Values.Count);
        foreach (var source in data.Values)
        {
            var thinned = new double?[buckets * 2];
            for (int b = 0; b < buckets; b++)
            {
                var (first, second) = Extremes(source, b * perBucket, Math.Min(count, (b + 1) * perBucket));
                thinned[2 * b] = first;
                thinned[(2 * b) + 1] = second;
            }

            values.Add(thinned);
        }

        return data with { Step = step, Times = times, Values = values };
    }

    /// <summary>The bucket's minimum and maximum, the one sampled earlier first; (null, null) when nothing was sampled.</summary>
    private static (double? First, double? Second) Extremes(double?[] source, int from, int to)
    {
        int min = -1, max = -1;
        for (int i = from; i < to; i++)
        {
            if (source[i] is not { } value)
            {
                continue;
            }

            if (min < 0 || value < source[min]!.Value)
            {
                min = i;
            }

            if (max < 0 || value > source[max]!.Value)
            {
                max = i;
            }
        }

        return min < 0 ? (null, null) : min <= max ? (source[min], source[max]) : (source[max], source[min]);
    }
}
