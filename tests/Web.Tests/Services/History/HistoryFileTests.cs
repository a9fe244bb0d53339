using Platform.Web.Services.History;

namespace Platform.Web.Tests.Services.History;

/// <summary>
/// The round-robin file: every sample in the 10 s ring, means in the minute and half-hour rings, each range served from
/// the finest ring that reaches back over it, old laps not shown, and what survives a restart or a kill.
/// </summary>
public sealed class HistoryFileTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly IReadOnlyList<HistorySeries> TwoSeries = [new("a", "x", "A"), new("b", "x", "B")];

    private readonly string _folder = Directory.CreateTempSubdirectory("platform-history-").FullName;

    private string FilePath => Path.Combine(_folder, "vm.rrd");

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void The_hour_has_every_10_s_sample_and_the_day_the_mean_of_each_4_minutes()
    {
        using var file = HistoryFile.Open(FilePath, 2);
        // 8 minutes of samples: value i at the i-th 10 s, and 100 - i.
        for (int i = 0; i < 48; i++)
        {
            file.Record(T0.AddSeconds(i * 10), [i, 100 - i]);
        }

        var now = T0.AddSeconds(470);
        var hour = file.Read(HistoryRange.Hour, now, TwoSeries);
        hour.Times.Should().HaveCount(360);
        hour.Step.Should().Be(TimeSpan.FromSeconds(10));
        hour.Times[^1].Should().Be(T0.AddSeconds(470), "the last point is the bucket that holds now");
        hour.Of("a")[^1].Should().Be(47);
        hour.Of("b")[^48].Should().Be(100);
        hour.Of("a")[^49].Should().BeNull("nothing was sampled before T0");

        var day = file.Read(HistoryRange.Day, now, TwoSeries);
        day.Times.Should().HaveCount(360);
        day.Step.Should().Be(TimeSpan.FromMinutes(4));
        // T0 is on a 4-minute boundary: the last two points hold samples 0..23 and 24..47.
        day.Times[^2].Should().Be(T0);
        day.Of("a")[^2].Should().BeApproximately(11.5, 1e-6);
        day.Of("a")[^1].Should().BeApproximately(35.5, 1e-6);
        day.Of("b")[^1].Should().BeApproximately(64.5, 1e-6);
        day.Of("a")[^3].Should().BeNull();
    }

    [Fact]
    public void A_week_a_month_and_a_year_are_means_of_the_coarser_rings_weighted_by_samples()
    {
        using var file = HistoryFile.Open(FilePath, 2);
        // One sample a minute for 2 hours, each value its minute; then 30 min of nothing; then one sample of 1000.
        for (int minute = 0; minute < 120; minute++)
        {
            file.Record(T0.AddMinutes(minute), [minute, 1]);
        }

        file.Record(T0.AddMinutes(150), [1000, 1]);
        var now = T0.AddMinutes(151);

        var week = file.Read(HistoryRange.Week, now, TwoSeries);
        week.Step.Should().Be(TimeSpan.FromMinutes(30));
        week.Times.Should().HaveCount(336);
        int first = week.Times.ToList().IndexOf(T0);
        week.Of("a")[first].Should().BeApproximately(14.5, 1e-6, "minutes 0..29");
        week.Of("a")[first + 3].Should().BeApproximately(104.5, 1e-6, "minutes 90..119");
        week.Of("a")[first + 4].Should().BeNull("nothing between 2 h and 2.5 h");
        week.Of("a")[first + 5].Should().Be(1000);

        var year = file.Read(HistoryRange.Year, now, TwoSeries);
        year.Step.Should().Be(TimeSpan.FromDays(1));
        year.Times.Should().HaveCount(365);
        // All 121 samples in one day: the mean of 0..119 and 1000, each sample counted once.
        year.Of("a")[^1].Should().BeApproximately((Enumerable.Range(0, 120).Sum() + 1000) / 121.0, 1e-3);

        var month = file.Read(HistoryRange.Month, now, TwoSeries);
        month.Step.Should().Be(TimeSpan.FromHours(2));
        month.Times.Should().HaveCount(360);
        month.Of("b").Where(v => v is not null).Should().OnlyContain(v => v == 1);
    }

    [Fact]
    public void Each_ring_keeps_its_own_span_a_day_a_week_and_a_year_and_then_forgets()
    {
        using var file = HistoryFile.Open(FilePath, 2);
        file.Record(T0, [42, 0]);
        // The same slot of the 10 s ring a day later, and of the minute ring a week later: the old lap is overwritten.
        file.Record(T0.AddDays(1), [7, 0]);

        double?[] HourAt(DateTimeOffset now) => file.Read(HistoryRange.Hour, now, TwoSeries).Of("a");
        double?[] WeekAt(DateTimeOffset now) => file.Read(HistoryRange.Week, now, TwoSeries).Of("a");

        HourAt(T0.AddDays(1))[^1].Should().Be(7);
        HourAt(T0.AddDays(1).AddMinutes(30)).Should().NotContain(42);
        WeekAt(T0.AddDays(2)).Should().Contain(42, "the minute ring still has T0");
        WeekAt(T0.AddDays(7).AddHours(1)).Should().NotContain(42, "a week on, T0 is outside the week");
        file.Read(HistoryRange.Month, T0.AddDays(20), TwoSeries).Of("a").Should().Contain(42);
        file.Read(HistoryRange.Year, T0.AddDays(300), TwoSeries).Of("a").Should().Contain(v => v != null && v > 7, "T0's day mean");

        file.Read(HistoryRange.Year, T0.AddDays(366), TwoSeries).Of("a").Should().NotContain(v => v != null && v > 7, "a year on, T0's day is gone");
    }

    [Fact]
    public void The_file_has_a_fixed_size_that_samples_never_grow()
    {
        using (var file = HistoryFile.Open(FilePath, 12))
        {
            for (int i = 0; i < 1000; i++)
            {
                file.Record(T0.AddSeconds(i * 10), new double[12]);
            }
        }

        new FileInfo(FilePath).Length.Should().Be(HistoryFile.SizeFor(12));
        HistoryStore.BytesPerVm.Should().Be(HistoryFile.SizeFor(12)).And.BeLessThan(2L << 20, "under 2 MiB per VM, whatever its age");
    }

    [Fact]
    public void History_survives_closing_and_reopening_and_a_bucket_in_progress_goes_on_filling()
    {
        using (var file = HistoryFile.Open(FilePath, 2))
        {
            file.Record(T0, [10, 0]);
            file.Record(T0.AddSeconds(10), [20, 0]);
        }

        using (var file = HistoryFile.Open(FilePath, 2))
        {
            file.Record(T0.AddSeconds(20), [60, 0]);
            var hour = file.Read(HistoryRange.Hour, T0.AddSeconds(20), TwoSeries);
            hour.Of("a")[^3..].Should().Equal(10, 20, 60);
            // The minute bucket counted the two samples before the restart and the one after.
            file.Read(HistoryRange.Week, T0.AddSeconds(20), TwoSeries).Of("a")[^1].Should().BeApproximately(30, 1e-6);
        }
    }

    [Fact]
    public void A_killed_writer_loses_nothing_it_recorded()
    {
        // The writer is never disposed or flushed, as when the dashboard gets kill -9: what it recorded is already in
        // the file (the kernel's page cache), so a new process that opens the file reads it.
        var writer = HistoryFile.Open(FilePath, 2);
        for (int i = 0; i < 6; i++)
        {
            writer.Record(T0.AddSeconds(i * 10), [i, 0]);
        }

        using var afterRestart = HistoryFile.Open(FilePath, 2);
        afterRestart.Read(HistoryRange.Hour, T0.AddSeconds(50), TwoSeries).Of("a")[^6..].Should().Equal(0, 1, 2, 3, 4, 5);
        GC.KeepAlive(writer);
    }

    [Fact]
    public void A_file_of_another_shape_is_moved_aside_and_started_again()
    {
        File.WriteAllText(FilePath, "not a history file");
        using (var file = HistoryFile.Open(FilePath, 2))
        {
            file.Read(HistoryRange.Hour, T0, TwoSeries).Values.SelectMany(v => v).Should().OnlyContain(v => v == null);
            file.Record(T0, [1, 2]);
        }

        File.ReadAllText(FilePath + ".old").Should().Be("not a history file");
        using var other = HistoryFile.Open(FilePath, 3);
        other.Read(HistoryRange.Hour, T0, [.. TwoSeries, new("c", "x", "C")]).Values.SelectMany(v => v)
            .Should().OnlyContain(v => v == null, "a file of two series is not read as three");
    }

    [Fact]
    public void Bad_input_is_refused_with_the_reason()
    {
        using var file = HistoryFile.Open(FilePath, 2);
        file.Invoking(f => f.Record(T0, [1])).Should().Throw<ArgumentException>().WithMessage("Expected 2 values, got 1.*");
        file.Invoking(f => f.Record(DateTimeOffset.UnixEpoch, [1, 2])).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*between 1970 and 2106*");
        HistoryRanges.TryParse("fortnight", out _).Should().BeFalse();
        HistoryRanges.TryParse("3", out _).Should().BeFalse();
        HistoryRanges.TryParse("Week", out var week).Should().BeTrue();
        week.Should().Be(HistoryRange.Week);
    }
}
