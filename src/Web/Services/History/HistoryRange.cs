namespace Platform.Web.Services.History;

/// <summary>The spans a chart or the API asks for.</summary>
public enum HistoryRange
{
    Hour,
    Day,
    Week,
    Month,
    Year,
}

/// <summary>How long each range is and how wide its points are: about 360 points each, whatever the range.</summary>
public static class HistoryRanges
{
    public static TimeSpan Duration(HistoryRange range) => range switch
    {
        HistoryRange.Hour => TimeSpan.FromHours(1),
        HistoryRange.Day => TimeSpan.FromDays(1),
        HistoryRange.Week => TimeSpan.FromDays(7),
        HistoryRange.Month => TimeSpan.FromDays(30),
        HistoryRange.Year => TimeSpan.FromDays(365),
        _ => throw new ArgumentOutOfRangeException(nameof(range), range, "Unknown range."),
    };

    /// <summary>The width of one point: a whole number of the archive's steps it is read from.</summary>
    public static TimeSpan Step(HistoryRange range) => range switch
    {
        HistoryRange.Hour => TimeSpan.FromSeconds(10),
        HistoryRange.Day => TimeSpan.FromMinutes(4),
        HistoryRange.Week => TimeSpan.FromMinutes(30),
        HistoryRange.Month => TimeSpan.FromHours(2),
        HistoryRange.Year => TimeSpan.FromDays(1),
        _ => throw new ArgumentOutOfRangeException(nameof(range), range, "Unknown range."),
    };

    /// <summary>
    /// The finest archive that reaches back over the whole range and whose step divides the range's: a day at 4 min
    /// comes from the 10 s samples, a month (longer than the minute archive's week) from the half hours.
    /// </summary>
    public static int ArchiveFor(HistoryRange range)
    {
        var duration = Duration(range);
        var step = Step(range);
        for (int i = 0; i < HistoryArchives.All.Count; i++)
        {
            var archive = HistoryArchives.All[i];
            if (archive.Span >= duration && archive.Step <= step && step.Ticks % archive.Step.Ticks == 0)
            {
                return i;
            }
        }

        return HistoryArchives.All.Count - 1;
    }

    /// <summary>Parses the API's <c>range</c> value (hour, day, week, month or year, any case).</summary>
    public static bool TryParse(string? value, out HistoryRange range) =>
        Enum.TryParse(value, ignoreCase: true, out range) && Enum.IsDefined(range) && !int.TryParse(value, out _);
}
