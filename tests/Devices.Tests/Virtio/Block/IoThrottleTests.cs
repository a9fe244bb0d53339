using System.Diagnostics;
using Platform.Devices.Virtio.Block;

namespace Platform.Devices.Tests.Virtio.Block;

public sealed class IoThrottleTests
{
    private long _now;

    private IoThrottle Throttle(long? bps, int? iops) => new(bps, iops, () => _now, ticksPerSecond: 1_000_000);

    [Fact]
    public void Without_limits_no_request_waits()
    {
        var throttle = Throttle(null, null);
        throttle.Reserve(1 << 20).Should().Be(0);
        throttle.Throttled.Should().Be(0);
    }

    [Fact]
    public void Back_to_back_requests_are_spaced_by_their_bytes_at_the_bandwidth_limit()
    {
        var throttle = Throttle(bps: 1 << 20, iops: null); // 1 MiB/s: 64 KiB costs 62 500 us
        throttle.Reserve(64 << 10).Should().Be(62_500, "each request pays its own cost before it runs, so nothing bursts");
        throttle.Reserve(64 << 10).Should().Be(125_000);
        _now = 100_000;
        throttle.Reserve(64 << 10).Should().Be(87_500, "the third request's turn is at 187.5 ms");
    }

    [Fact]
    public void The_request_limit_spaces_small_requests_and_the_stricter_limit_wins()
    {
        var throttle = Throttle(bps: 100 << 20, iops: 100);
        throttle.Reserve(4096).Should().Be(10_000);
        throttle.Reserve(4096).Should().Be(20_000);
        throttle.Set(bytesPerSecond: 4096, iops: 100);
        throttle.Reserve(4096).Should().Be(1_020_000, "4 KiB at 4 KiB/s costs a second, more than 1/100 s");
    }

    [Fact]
    public void An_idle_disk_saves_nothing_up()
    {
        var throttle = Throttle(bps: 1 << 20, iops: null);
        throttle.Reserve(1 << 20);
        _now = 10_000_000; // ten seconds later
        throttle.Reserve(1 << 20).Should().Be(1_000_000, "a long pause does not let the next requests burst past the limit");
    }

    [Fact]
    public void Over_many_requests_the_rate_is_the_limit()
    {
        var throttle = Throttle(bps: 3_000_000, iops: null);
        long turn = 0;
        for (int i = 0; i < 1000; i++)
        {
            turn = _now + throttle.Reserve(12_345);
            _now = turn; // the request runs at its turn and the next is issued at once
        }

        double rate = 1000.0 * 12_345 / (turn / 1e6);
        rate.Should().BeApproximately(3_000_000, 3_000);
    }

    [Fact]
    public async Task Release_lets_a_waiting_request_go_at_once()
    {
        var throttle = new IoThrottle(bytesPerSecond: 4096, iops: null);
        var watch = Stopwatch.StartNew();
        var waiter = Task.Run(() => throttle.Wait(40_960), TestContext.Current.CancellationToken); // ten seconds' worth
        await Task.Delay(100, TestContext.Current.CancellationToken);
        throttle.Release();
        await waiter.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5), "a reset does not wait for the schedule");
    }

    [Fact]
    public void Wait_holds_a_request_for_its_turn_on_the_real_clock()
    {
        var throttle = new IoThrottle(bytesPerSecond: 1 << 20, iops: null);
        var watch = Stopwatch.StartNew();
        throttle.Wait(256 << 10);
        throttle.Wait(256 << 10);
        watch.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(490), "512 KiB at 1 MiB/s takes half a second");
    }

    [Fact]
    public void Negative_limits_are_refused()
    {
        var act = () => new IoThrottle(-1, null);
        act.Should().Throw<ArgumentOutOfRangeException>();
    }
}
