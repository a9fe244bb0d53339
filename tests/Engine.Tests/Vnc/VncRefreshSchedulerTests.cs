using Microsoft.Extensions.Time.Testing;
using Platform.Engine.Tests.Vnc.Support;
using Platform.Engine.Vnc;

namespace Platform.Engine.Tests.Vnc;

// When the server looks at the screen, on a fake clock: never without a client, backing off while the screen is still,
// snapping back on a change or input. Reads of the dirty log are counted (TestFramebuffer.Collections), not timed.
public sealed class VncRefreshSchedulerTests
{
    private const int Zrle = 16;
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(16);

    private readonly TestFramebuffer _framebuffer = new(64, 48);
    private readonly FakeTimeProvider _time = new();
    private readonly RecordingInput _input = new();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>Lets <paramref name="span"/> pass in steps (1 ms unless given), firing the timers due on the way; returns the dirty-log reads.</summary>
    private int Pass(TimeSpan span, TimeSpan? step = null)
    {
        int before = _framebuffer.Collections;
        TimeSpan by = step ?? TimeSpan.FromMilliseconds(1);
        for (TimeSpan passed = TimeSpan.Zero; passed < span; passed += by)
        {
            _time.Advance(by);
        }

        return _framebuffer.Collections - before;
    }

    /// <summary>Lets time pass a millisecond at a time until the server reads the dirty log; returns how long that took.</summary>
    private TimeSpan UntilNextLook()
    {
        int before = _framebuffer.Collections;
        TimeSpan passed = TimeSpan.Zero;
        while (_framebuffer.Collections == before && passed < TimeSpan.FromMinutes(1))
        {
            _time.Advance(TimeSpan.FromMilliseconds(1));
            passed += TimeSpan.FromMilliseconds(1);
        }

        _framebuffer.Collections.Should().Be(before + 1);
        return passed;
    }

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!condition())
        {
            await Task.Delay(1, timeout.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            timeout.IsCancellationRequested.Should().BeFalse($"{what} within 10 s");
        }
    }

    private VncServer StartServer()
    {
        _framebuffer.Fill((x, y) => (uint)((x * 7) + (y * 13)));
        var server = new VncServer(_framebuffer, keyboard: _input, pointingDevice: _input);
        server.StartRefreshing(_time);
        return server;
    }

    private static async Task<(RfbTestClient Client, Task Served)> ConnectAsync(VncServer server)
    {
        (RfbTestClient client, Task served, _) = RfbTestClient.Connect(server);
        await client.HandshakeAsync();
        await client.SetEncodingsAsync(Zrle);
        await client.RequestUpdateAsync(incremental: false);
        await client.ReadUpdateAsync();
        return (client, served);
    }

    /// <summary>Lets the screen stay still until the server looks only every 3 s.</summary>
    private void BackOffFully(VncServer server)
    {
        Pass(TimeSpan.FromSeconds(10));
        server.RefreshInterval.Should().Be(TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task Without_a_client_the_dirty_log_is_never_read_and_a_client_that_connects_gets_the_whole_screen_at_once()
    {
        using VncServer server = StartServer();

        Pass(TimeSpan.FromMinutes(10), Tick).Should().Be(0, "nobody watches");
        server.RefreshInterval.Should().BeNull("no look is scheduled");
        _framebuffer.SetPixel(10, 10, 0xFF0000);   // the guest draws meanwhile

        (RfbTestClient client, Task served) = await ConnectAsync(server);
        await using (client)
        {
            VncAssert.ScreenMatches(client, _framebuffer.Expected());
            _framebuffer.Collections.Should().Be(1, "the client's first frame came from one full look, before any tick");
            server.RefreshInterval.Should().Be(Tick);
        }

        await served;
        await WaitForAsync(() => server.ClientCount == 0, "the client is gone");
        Pass(TimeSpan.FromSeconds(1));   // the look already due finds nobody and stops the schedule
        server.RefreshInterval.Should().BeNull();
        Pass(TimeSpan.FromMinutes(10), Tick).Should().Be(0, "the last client left");
    }

    [Fact]
    public async Task A_still_screen_is_read_less_and_less_often_down_to_once_in_3_s()
    {
        using VncServer server = StartServer();
        (RfbTestClient client, Task served) = await ConnectAsync(server);
        await using (client)
        {
            // 16, 32, 64 … 2048 ms, then every 3 s: 8 looks in the first 4 s, then one each 3 s.
            Pass(TimeSpan.FromSeconds(4.1)).Should().Be(8);
            server.RefreshInterval.Should().Be(TimeSpan.FromSeconds(3));
            Pass(TimeSpan.FromMinutes(1)).Should().Be(20, "a minute of a still screen costs 20 looks, not 3,750");
        }

        await served;
    }

    [Fact]
    public async Task The_first_change_snaps_the_refresh_back_and_reaches_the_client()
    {
        using VncServer server = StartServer();
        (RfbTestClient client, Task served) = await ConnectAsync(server);
        await using (client)
        {
            BackOffFully(server);
            await client.RequestUpdateAsync(incremental: true);
            _framebuffer.SetPixel(20, 30, 0x00FF00);

            UntilNextLook().Should().BeLessThanOrEqualTo(TimeSpan.FromSeconds(3), "the change is seen at the next look");
            server.RefreshInterval.Should().Be(Tick);
            await client.ReadUpdateAsync();
            VncAssert.ScreenMatches(client, _framebuffer.Expected());

            _framebuffer.SetPixel(21, 30, 0x0000FF);   // a screen that keeps changing is looked at every 16 ms
            UntilNextLook().Should().Be(Tick);
            UntilNextLook().Should().Be(Tick);
            UntilNextLook().Should().Be(Tick * 2, "still again: the wait doubles");
        }

        await served;
    }

    [Fact]
    public async Task A_key_or_pointer_event_snaps_the_refresh_back_at_once()
    {
        using VncServer server = StartServer();
        (RfbTestClient client, Task served) = await ConnectAsync(server);
        await using (client)
        {
            BackOffFully(server);
            await client.SendKeyAsync(0x61, down: true);
            await WaitForAsync(() => server.RefreshInterval == Tick, "the key hurries the refresh");
            Pass(Tick).Should().Be(1, "the guest's answer to a key is looked for 16 ms later, not 3 s");
            _input.Keys.Should().Equal((0x1E, true));

            BackOffFully(server);
            await client.SendPointerAsync(5, 5, 0);
            await WaitForAsync(() => server.RefreshInterval == Tick, "the pointer hurries the refresh");
            Pass(Tick).Should().Be(1);
        }

        await served;
    }
}
