using System.Diagnostics;
using Platform.Engine.Vnc;

namespace Platform.Engine.Tests.Vnc;

// The link estimate from acknowledged updates (fake Stopwatch timestamps) and the settings chosen from it.
public sealed class LinkEstimatorTests
{
    private static long Ms(double ms) => (long)(ms * Stopwatch.Frequency / 1000);

    /// <summary>Updates of <paramref name="bytes"/>, each acknowledged <paramref name="ms"/> after it was sent, one after another.</summary>
    private static LinkEstimator Measured(long bytes, double ms, int updates = 6, double roundTripMs = 0)
    {
        var link = new LinkEstimator();
        long now = Ms(1000);
        if (roundTripMs > 0)
        {
            link.Sent(100, now);
            now += Ms(roundTripMs);
            link.Acknowledged(now);
        }

        for (int i = 0; i < updates; i++)
        {
            link.Sent(bytes, now);
            now += Ms(ms);
            link.Acknowledged(now);
        }

        return link;
    }

    [Fact]
    public void An_unmeasured_link_keeps_the_client_s_settings_and_the_encoder_s_default_when_it_names_none()
    {
        var link = new LinkEstimator();
        link.Choose(2, 8, defaultLevel: 9).Should().Be(new LinkSettings(null, 2, 8));
        link.Choose(-1, -1, defaultLevel: 9).Should().Be(new LinkSettings(null, 9, -1));
    }

    [Fact]
    public void A_fast_link_keeps_the_client_s_settings()
    {
        // 200 KB in 10 ms: 20 MB/s.
        var settings = Measured(200_000, 10).Choose(2, 8, defaultLevel: 9);
        settings.BytesPerSecond.Should().BeApproximately(20_000_000, 1_000_000);
        (settings.CompressLevel, settings.JpegQuality).Should().Be((2, 8));
    }

    [Fact]
    public void A_slow_link_gets_more_compression_and_a_lower_jpeg_quality_within_the_client_s()
    {
        // 100 KB in 100 ms: 1 MB/s, below 2 MB/s.
        var settings = Measured(100_000, 100).Choose(2, 8, defaultLevel: 9);
        settings.BytesPerSecond.Should().BeApproximately(1_000_000, 50_000);
        (settings.CompressLevel, settings.JpegQuality).Should().Be((LinkEstimator.SlowCompressLevel, LinkEstimator.SlowJpegQuality));
        Measured(100_000, 100).Choose(9, 3, defaultLevel: 9).Should().Be(settings with { CompressLevel = 9, JpegQuality = 3 },
            "the client's own level is the least it gets and its quality the most");
        Measured(100_000, 100).Choose(2, -1, defaultLevel: 9).JpegQuality.Should().Be(-1, "JPEG is never turned on for a client that did not ask");
    }

    [Fact]
    public void A_very_slow_link_gets_the_most_compression_and_a_low_quality()
    {
        // 50 KB in 500 ms: 100 KB/s.
        var settings = Measured(50_000, 500).Choose(2, 8, defaultLevel: 9);
        (settings.CompressLevel, settings.JpegQuality).Should().Be((9, LinkEstimator.VerySlowJpegQuality));
    }

    [Fact]
    public void The_round_trip_measured_by_small_updates_is_not_taken_for_transfer_time()
    {
        // 200 KB acknowledged 60 ms after sending over a 50 ms round trip: 10 ms of transfer, 20 MB/s: a fast link
        // that is far away, where more compression would only add CPU time.
        var link = Measured(200_000, 60, roundTripMs: 50);
        link.BytesPerSecond.Should().BeApproximately(20_000_000, 1_000_000);
        link.Choose(2, 8, defaultLevel: 9).CompressLevel.Should().Be(2);
        // Small updates alone say nothing of the rate.
        Measured(1_000, 300).BytesPerSecond.Should().BeNull();
    }

    [Fact]
    public void A_rate_near_a_bound_does_not_flip_the_settings_each_update()
    {
        var link = new LinkEstimator();
        long now = Ms(1000);
        var levels = new List<int>();
        // 1.9 MB/s, then 2.3 MB/s, alternating: within the hysteresis, so once slow it stays slow.
        for (int i = 0; i < 12; i++)
        {
            link.Sent(190_000, now);
            now += Ms(i % 2 == 0 ? 100 : 82);
            link.Acknowledged(now);
            levels.Add(link.Choose(2, 8, defaultLevel: 9).CompressLevel);
        }

        levels.Skip(1).Should().OnlyContain(l => l == LinkEstimator.SlowCompressLevel);
    }

    [Fact]
    public void Acknowledgements_without_updates_in_flight_change_nothing()
    {
        var link = new LinkEstimator();
        link.Acknowledged(Ms(5));
        link.BytesPerSecond.Should().BeNull();
    }
}
