using System.Net.Sockets;
using Platform.Engine.Tests.Infrastructure;
using Platform.Engine.Tests.Vnc.Support;
using Platform.Engine.Vnc;

namespace Platform.Engine.Tests.Vnc;

// Continuous updates (-313, EnableContinuousUpdates, EndOfContinuousUpdates) and fences (-312), over a loopback TCP
// socket as noVNC and TigerVNC use them, and a fuzz of both client messages.
public sealed class ContinuousUpdatesTests
{
    private const int Tight = 7, Fence = -312, ContinuousUpdates = -313;
    private const uint BlockBefore = 1, BlockAfter = 2, SyncNext = 4, Request = 1u << 31;
    private const int Width = 128, Height = 96;

    /// <summary>A server on a loopback port with one client connected to it through a real socket.</summary>
    private sealed class SocketSession : IAsyncDisposable
    {
        private readonly TcpListener _listener = VncLoopback.Listen();
        private readonly CancellationTokenSource _stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        public SocketSession()
        {
            Framebuffer.Fill((x, y) => (uint)((x * 2) << 16 | (y * 2) << 8 | 0x40));
            Server = new VncServer(Framebuffer);
        }

        public TestFramebuffer Framebuffer { get; } = new(Width, Height);

        public VncServer Server { get; }

        public RfbTestClient Client { get; private set; } = null!;

        public Task Served { get; private set; } = Task.CompletedTask;

        public async Task ConnectAsync()
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            Task<Socket> accepted = _listener.AcceptSocketAsync(_stop.Token).AsTask();
            await socket.ConnectAsync(System.Net.IPAddress.Loopback, VncLoopback.Port(_listener), _stop.Token);
            Served = Server.ServeAsync(new NetworkStream(await accepted, ownsSocket: true), _stop.Token);
            Client = new RfbTestClient(new NetworkStream(socket, ownsSocket: true));
            await Client.HandshakeAsync();
        }

        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            await Served.WaitAsync(TimeSpan.FromSeconds(30));
            await _stop.CancelAsync();
            _listener.Dispose();
            Server.Dispose();
            _stop.Dispose();
        }
    }

    [Fact]
    public async Task A_client_that_takes_updates_in_slowly_gets_more_compression_and_a_lower_jpeg_quality_and_still_decodes()
    {
        const int CompressLevel2 = -254, QualityLevel8 = -24; // noVNC's defaults
        await using var session = new SocketSession();
        await session.ConnectAsync();
        RfbTestClient client = session.Client;
        client.AnswerFences = true;
        // Each fence answered 150 ms after it came: a link that takes that long per update (under 250 KB/s for these).
        client.FenceAnswerDelay = TimeSpan.FromMilliseconds(150);
        await client.SetEncodingsAsync(Tight, ContinuousUpdates, Fence, CompressLevel2, QualityLevel8);
        await client.RequestUpdateAsync(incremental: false);
        await client.ReadUpdateAsync();
        await client.SendEnableContinuousUpdatesAsync(true);

        var random = new Random(7);
        for (int frame = 0; frame < 8; frame++)
        {
            // Noise: every update is large (tens of KB), so each measures the link's rate rather than its round trip.
            session.Framebuffer.Fill((_, _) => (uint)random.Next(0x1000000));
            session.Server.Refresh();
            await client.ReadUpdateAsync();
            VncAssert.ScreenMatches(client, session.Framebuffer.Expected(), $"frame {frame}: the zlib streams restarted cleanly when the level changed");
        }

        LinkSettings link = session.Server.ClientLinks().Should().ContainSingle().Subject;
        link.BytesPerSecond.Should().BeLessThan(LinkEstimator.SlowBytesPerSecond);
        link.CompressLevel.Should().BeGreaterThanOrEqualTo(LinkEstimator.SlowCompressLevel, "bytes cost more than CPU on this link; the client asked for 2");
        link.JpegQuality.Should().BeInRange(0, LinkEstimator.SlowJpegQuality, "the client's 8 is the most it gets, lowered on a slow link");
    }

    [Fact]
    public async Task Continuous_updates_come_as_the_screen_changes_without_requests_until_turned_off()
    {
        await using var session = new SocketSession();
        await session.ConnectAsync();
        RfbTestClient client = session.Client;
        client.AnswerFences = true;
        await client.SetEncodingsAsync(Tight, ContinuousUpdates, Fence);
        await client.RequestUpdateAsync(incremental: false);
        await client.ReadUpdateAsync();
        client.EndOfContinuousUpdates.Should().Be(1, "a server with continuous updates says so when the client lists them");
        client.Fences.Should().ContainSingle(f => (f.Flags & Request) != 0, "a server with fences sends one when the client lists them");

        await client.SendEnableContinuousUpdatesAsync(true);
        for (int change = 0; change < 5; change++)
        {
            session.Framebuffer.SetPixel(10 + (change * 20), 50, 0xFF00FFu);
            session.Server.Refresh();
            await client.ReadUpdateAsync();   // no FramebufferUpdateRequest was sent for it
            VncAssert.ScreenMatches(client, session.Framebuffer.Expected(), $"after change {change}");
        }

        client.Fences.Count(f => (f.Flags & Request) != 0).Should().BeGreaterThan(1, "each continuous update is followed by a fence");

        await client.SendEnableContinuousUpdatesAsync(false);
        while (await client.ReadMessageAsync() != 150)
        {
        }

        long updates = session.Server.UpdatesSent;
        session.Framebuffer.SetPixel(3, 3, 0x00FF00u);
        session.Server.Refresh();
        await Task.Delay(200, TestContext.Current.CancellationToken);
        session.Server.UpdatesSent.Should().Be(updates, "once turned off, updates wait for a request again");
        await client.RequestUpdateAsync(incremental: true);
        await client.ReadUpdateAsync();
        VncAssert.ScreenMatches(client, session.Framebuffer.Expected());
        session.Server.ProtocolErrors.Should().Be(0);
        session.Server.InternalErrors.Should().Be(0);
    }

    [Fact]
    public async Task At_most_two_continuous_updates_go_out_before_the_client_answers_their_fences()
    {
        await using var session = new SocketSession();
        await session.ConnectAsync();
        RfbTestClient client = session.Client;
        await client.SetEncodingsAsync(Tight, ContinuousUpdates, Fence);
        await client.SendEnableContinuousUpdatesAsync(true);
        // The full screen goes at once (nothing was sent yet), then one change; the rest wait for answers.
        for (int change = 0; change < 10; change++)
        {
            session.Framebuffer.SetPixel(change * 10, change * 5, 0xFFFFFFu);
            session.Server.Refresh();
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        await Task.Delay(200, TestContext.Current.CancellationToken);
        long held = session.Server.UpdatesSent;
        held.Should().Be(2, "updates wait for the client to take in the ones in flight");

        // Read what came: the announcing fence, then each update with its fence; answering one lets the next out.
        int updates = 0;
        while (updates < 2 || client.Fences.Count < 3)
        {
            updates += await client.ReadMessageAsync() == 0 ? 1 : 0;
        }

        (uint flags, byte[] payload) = client.Fences[^1];
        payload.Should().NotBeEmpty("an update's fence is told from others by its payload");
        await client.SendFenceAsync(flags & (BlockBefore | BlockAfter), payload);
        await client.ReadUpdateAsync();
        session.Server.UpdatesSent.Should().BeGreaterThan(held);
        VncAssert.ScreenMatches(client, session.Framebuffer.Expected(), "the held-back changes came in the next update");
    }

    [Fact]
    public async Task A_fence_request_is_answered_with_its_payload_and_the_flags_we_honour()
    {
        await using var session = new SocketSession();
        await session.ConnectAsync();
        RfbTestClient client = session.Client;
        await client.SetEncodingsAsync(Tight, Fence);
        byte[] payload = [.. Enumerable.Range(0, 64).Select(i => (byte)(i * 7))];
        await client.SendFenceAsync(Request | BlockBefore | BlockAfter | SyncNext | (1u << 9), payload);
        while (!client.Fences.Any(f => (f.Flags & Request) == 0))
        {
            await client.ReadMessageAsync();
        }

        (uint flags, byte[] echoed) = client.Fences.Single(f => (f.Flags & Request) == 0);
        flags.Should().Be(BlockBefore | BlockAfter, "the reply keeps the flags we honour and clears the rest");
        echoed.Should().Equal(payload);

        await client.SendFenceAsync(Request, []);
        while (client.Fences.Count(f => (f.Flags & Request) == 0) < 2)
        {
            await client.ReadMessageAsync();
        }

        client.Fences.Last().Payload.Should().BeEmpty();
        session.Server.ProtocolErrors.Should().Be(0);
    }

    public static TheoryData<string, byte[]> BadMessages => new()
    {
        { "a fence payload over 64 bytes", [248, 0, 0, 0, 0x80, 0, 0, 0, 65, .. new byte[65]] },
        { "EnableContinuousUpdates without -313", [150, 1, 0, 0, 0, 0, 0, 10, 0, 10] },
    };

    [Theory]
    [MemberData(nameof(BadMessages))]
    public async Task A_broken_message_closes_only_that_client(string what, byte[] message)
    {
        var framebuffer = new TestFramebuffer(32, 32);
        using var server = new VncServer(framebuffer);
        (RfbTestClient client, Task served, _) = RfbTestClient.Connect(server);
        await using (client)
        {
            await client.HandshakeAsync();
            await client.SetEncodingsAsync(Tight, Fence);
            await client.WriteAsync(message);
            await served.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        }

        server.ProtocolErrors.Should().Be(1, what);
        server.InternalErrors.Should().Be(0);
    }

    [Fact]
    public async Task A_fence_from_a_client_that_never_listed_fences_is_a_protocol_error()
    {
        var framebuffer = new TestFramebuffer(32, 32);
        using var server = new VncServer(framebuffer);
        (RfbTestClient client, Task served, _) = RfbTestClient.Connect(server);
        await using (client)
        {
            await client.HandshakeAsync();
            await client.SetEncodingsAsync(Tight);
            await client.SendFenceAsync(Request, [1, 2, 3]);
            await served.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        }

        server.ProtocolErrors.Should().Be(1);
    }

    [Fact]
    public async Task Random_fences_and_continuous_update_messages_never_break_the_server()
    {
        var framebuffer = new TestFramebuffer(96, 64);
        framebuffer.Fill((x, y) => (uint)(x * y));
        using var server = new VncServer(framebuffer);
        for (int seed = 0; seed < 60; seed++)
        {
            var random = new Random(seed);
            (DuplexStream clientSide, DuplexStream serverSide) = DuplexStream.CreatePair();
            Task served = server.ServeAsync(serverSide, TestContext.Current.CancellationToken);
            var client = new RfbTestClient(clientSide);
            await using (client)
            {
                await client.HandshakeAsync();
                Task drained = DrainAsync(clientSide);
                int[] pseudo = [.. new[] { Fence, ContinuousUpdates, -223, -308, -224 }.Where(_ => random.Next(3) > 0)];
                await client.SetEncodingsAsync([Tight, .. pseudo]);
                var message = new List<byte>();
                for (int i = 0; i < 40; i++)
                {
                    message.Clear();
                    switch (random.Next(5))
                    {
                        case 0:
                            // EnableContinuousUpdates with any flag and any area, off-screen and empty ones too.
                            message.Add(150);
                            message.Add((byte)random.Next(3));
                            message.AddRange(RandomBytes(random, 8));
                            break;
                        case 1:
                            // A fence with any flags, a length up to 80 and that many bytes.
                            int length = random.Next(81);
                            message.AddRange([248, 0, 0, 0]);
                            message.AddRange(RandomBytes(random, 4));
                            message.Add((byte)length);
                            message.AddRange(RandomBytes(random, length));
                            break;
                        case 2:
                            message.AddRange([3, (byte)random.Next(2), .. RandomBytes(random, 8)]);
                            break;
                        case 3:
                            framebuffer.SetPixel(random.Next(96), random.Next(64), (uint)random.Next());
                            server.Refresh();
                            break;
                        default:
                            // A cut-off message: the server must wait for the rest, not misread it.
                            message.AddRange(random.Next(2) == 0 ? [248, 0, 0] : [150, 1, 0]);
                            break;
                    }

                    try
                    {
                        await client.WriteAsync([.. message]);
                    }
                    catch (IOException)
                    {
                        break;   // the server closed the connection on a message it refused
                    }
                }

                clientSide.Output.Close();
                await served.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
                await drained.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            }

            server.InternalErrors.Should().Be(0, $"seed {seed}");
            server.ClientCount.Should().Be(0, $"seed {seed}: the client left");
        }
    }

    private static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    private static async Task DrainAsync(Stream stream)
    {
        var buffer = new byte[65536];
        try
        {
            while (await stream.ReadAsync(buffer, TestContext.Current.CancellationToken) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
        }
    }
}
