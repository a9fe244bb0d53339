namespace Platform.Web.Services.History;

/// <summary>
/// One range of a history: point times (each the start of its bucket, <see cref="Step"/> wide) and, per series, the
/// mean of what was sampled in each bucket, or null where nothing was (the VM was stopped, the dashboard was down).
/// </summary>
public sealed record HistoryData(
    HistoryRange Range,
    TimeSpan Step,
    IReadOnlyList<DateTimeOffset> Times,
    IReadOnlyList<HistorySeries> Series,
    IReadOnlyList<double?[]> Values)
{
    public double?[] Of(string series) => Values[HistorySeriesSets.IndexOf(Series, series)];
}
