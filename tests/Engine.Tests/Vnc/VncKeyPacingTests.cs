using Platform.Engine.Tests.Vnc.Support;
using Platform.Engine.Vnc;

namespace Platform.Engine.Tests.Vnc;

// Keys wait for a full keyboard instead of being dropped: each client's queue, its bound, and a client that leaves.
public sealed class VncKeyPacingTests
{
    private const uint KeysymA = 0x61, KeysymShift = 0xFFE1;
    private const int ScancodeA = 0x1E, ScancodeShift = 0x2A;

    private readonly TestFramebuffer _framebuffer = new(64, 48);
    private readonly RecordingInput _keyboard = new();

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (!condition())
        {
            await Task.Delay(1, timeout.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            timeout.IsCancellationRequested.Should().BeFalse($"{what} within 20 s");
        }
    }

    /// <summary>The guest reads a few keys at a time until <paramref name="total"/> have arrived.</summary>
    private async Task GuestReadsAsync(int total, int perRead)
    {
        while (_keyboard.Keys.Count < total)
        {
            int before = _keyboard.Keys.Count;
            _keyboard.MakeRoom(perRead);
            await WaitForAsync(() => _keyboard.Keys.Count >= Math.Min(total, before + perRead) || _keyboard.Room > 0, "the held keys moving on");
        }
    }

    [Fact]
    public async Task Two_thousand_keys_sent_at_once_to_a_keyboard_that_takes_four_at_a_time_all_arrive_in_order()
    {
        _keyboard.LimitRoom(4);
        using var server = new VncServer(_framebuffer, keyboard: _keyboard);
        (RfbTestClient client, Task served, _) = RfbTestClient.Connect(server);
        await using (client)
        {
            await client.HandshakeAsync();
            for (int i = 0; i < 1_000; i++)
            {
                await client.SendKeyAsync(KeysymA, down: true);
                await client.SendKeyAsync(KeysymA, down: false);
            }

            await WaitForAsync(() => server.KeysQueued == 2_000 - 4, "the keys the keyboard could not take queued");
            await GuestReadsAsync(2_000, perRead: 3);
        }

        await served;
        _keyboard.Keys.Should().Equal(Enumerable.Range(0, 2_000).Select(i => (ScancodeA, i % 2 == 0)));
        (server.KeysDelivered, server.KeysQueued, server.KeysRefused).Should().Be((2_000, 0, 0));
        _keyboard.Refusals.Should().BePositive("the keyboard was full most of the time");
    }

    [Fact]
    public async Task Past_its_bound_a_client_is_refused_and_counted_and_what_it_queued_still_arrives_after_it_leaves()
    {
        _keyboard.LimitRoom(0);
        using var server = new VncServer(_framebuffer, new VncServerOptions { MaxQueuedKeys = 5 }, _keyboard);
        (RfbTestClient client, Task served, _) = RfbTestClient.Connect(server);
        await using (client)
        {
            await client.HandshakeAsync();
            await client.SendKeyAsync(KeysymShift, down: true);
            for (int i = 0; i < 4; i++)
            {
                await client.SendKeyAsync(KeysymA, down: i % 2 == 0);
            }

            await client.SendKeyAsync(KeysymA, down: true);   // the sixth: past the bound
            await WaitForAsync(() => server.KeysRefused == 1, "the refusal counted");
            server.KeysQueued.Should().Be(5);
        }

        await served;
        await GuestReadsAsync(7, perRead: 2);
        // What it queued, then the releases of the keys it left held as it saw them (a release is never refused).
        _keyboard.Keys.Should().Equal(
            (ScancodeShift, true), (ScancodeA, true), (ScancodeA, false), (ScancodeA, true), (ScancodeA, false),
            (ScancodeA, false), (ScancodeShift, false));
        (server.KeysDelivered, server.KeysQueued, server.KeysRefused).Should().Be((7, 0, 1));
    }
}
