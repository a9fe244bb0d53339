using Platform.Web.Services.History;

namespace Platform.Web.Tests.Services.History;

/// <summary>Min/max thinning for the charts: fewer points, every peak and dip kept, gaps kept, order of events kept.</summary>
public sealed class HistoryThinningTests
{
    private static readonly DateTimeOffset T0 = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly IReadOnlyList<HistorySeries> TwoSeries = [new("a", "x", "A"), new("b", "x", "B")];

    private static HistoryData Hour(double?[] a, double?[] b) => new(HistoryRange.Hour, TimeSpan.FromSeconds(10),
        [.. Enumerable.Range(0, a.Length).Select(i => T0.AddSeconds(10 * i))], TwoSeries, [a, b]);

    [Fact]
    public void An_hour_becomes_60_buckets_of_a_minute_each_with_its_minimum_and_maximum_in_the_order_they_happened()
    {
        // a: a flat 10 with one spike of 95 at point 200 and one dip to 1 at 203; b: a ramp down.
        var a = Enumerable.Repeat<double?>(10, 360).ToArray();
        a[200] = 95;
        a[203] = 1;
        var b = Enumerable.Range(0, 360).Select(i => (double?)(360 - i)).ToArray();

        var thinned = HistoryThinning.MinMax(Hour(a, b), 120);

        thinned.Times.Should().HaveCount(120);
        thinned.Step.Should().Be(TimeSpan.FromMinutes(1));
        thinned.Times[0].Should().Be(T0);
        thinned.Times[1].Should().Be(T0.AddSeconds(30), "a bucket's second point is timed at its middle");
        thinned.Times[2].Should().Be(T0.AddMinutes(1));
        thinned.Of("a").Max().Should().Be(95, "a single 10 s spike stays as high as it was");
        thinned.Of("a").Min().Should().Be(1, "and so does a dip");
        // Points 198-203 are bucket 33: the spike (at 200) came before the dip (at 203).
        thinned.Of("a")[66].Should().Be(95);
        thinned.Of("a")[67].Should().Be(1);
        thinned.Of("a")[0].Should().Be(10);
        // The ramp down: each bucket's maximum came first.
        thinned.Of("b")[0].Should().Be(360);
        thinned.Of("b")[1].Should().Be(355);
        thinned.Of("b")[^1].Should().Be(1);
    }

    [Fact]
    public void A_bucket_with_nothing_sampled_stays_a_gap_and_a_partly_sampled_one_keeps_what_it_has()
    {
        var a = new double?[360];
        for (int i = 6; i < 9; i++)
        {
            a[i] = i;
        }

        var thinned = HistoryThinning.MinMax(Hour(a, new double?[360]), 120);

        thinned.Of("a")[0].Should().BeNull();
        thinned.Of("a")[1].Should().BeNull();
        thinned.Of("a")[2].Should().Be(6);
        thinned.Of("a")[3].Should().Be(8);
        thinned.Of("b").Should().OnlyContain(v => v == null);
    }

    [Fact]
    public void A_range_with_no_more_points_than_asked_for_is_left_as_it_is_and_an_uneven_one_ends_in_a_short_bucket()
    {
        var few = Hour([1, 2, 3], [4, 5, 6]);
        HistoryThinning.MinMax(few, 120).Should().BeSameAs(few);

        // A year's 365 points: 53 buckets of 7 days, the last of one day only.
        var values = Enumerable.Range(0, 365).Select(i => (double?)i).ToArray();
        var year = new HistoryData(HistoryRange.Year, TimeSpan.FromDays(1),
            [.. Enumerable.Range(0, 365).Select(i => T0.AddDays(i))], TwoSeries, [values, values]);
        var thinned = HistoryThinning.MinMax(year, 120);
        thinned.Times.Should().HaveCount(106);
        thinned.Step.Should().Be(TimeSpan.FromDays(7));
        thinned.Of("a")[^2].Should().Be(364);
        thinned.Of("a")[^1].Should().Be(364);

        var act = () => HistoryThinning.MinMax(few, 1);
        act.Should().Throw<ArgumentOutOfRangeException>();
    }
}
