using System.Buffers.Binary;
using Platform.Devices.Display;
using Platform.Engine.Tests.Vnc.Support;
using Platform.Engine.Vnc;

namespace Platform.Engine.Tests.Vnc;

// The server as a whole: what a refresh reads, what changes reach clients, scrolls, mode changes, slow clients,
// and a fuzzed message stream.
public sealed class VncServerTests
{
    private const int Raw = 0, CopyRect = 1, Tight = 7, Zrle = 16;

    private static uint Noise(int x, int y, int seed) => (uint)(HashCode.Combine(x, y, seed) & 0xFFFFFF);

    [Fact]
    public async Task A_refresh_reads_only_the_pages_the_dirty_log_names()
    {
        var framebuffer = new TestFramebuffer(1024, 768);
        framebuffer.Fill((x, y) => Noise(x, y, 1));
        using var server = new VncServer(framebuffer);
        (RfbTestClient client, Task served, _) = RfbTestClient.Connect(server);
        await using (client)
        {
            await client.HandshakeAsync();
            await client.SetEncodingsAsync(Zrle);
            await client.RequestUpdateAsync(incremental: false);
            await client.ReadUpdateAsync();

            framebuffer.SetPixel(500, 300, 0x123456);
            server.Refresh();
            server.LastRefreshPixelsCompared.Should().Be(1024, "one 4 KiB page is one line of 1024 pixels at 32 bpp");
            await client.RequestUpdateAsync(incremental: true);
            await client.ReadUpdateAsync();
            client.LastRectangles.Should().Equal([(496, 288, 16, 16, Zrle)], "only the changed 16×16 tile is sent");
            VncAssert.ScreenMatches(client, framebuffer.Expected());

            // A page rewritten with the same pixels costs a compare, nothing on the wire.
            framebuffer.MarkDirty(0, 4096);
            framebuffer.SetPixel(1, 700, 0xABCDEF);
            server.Refresh();
            await client.RequestUpdateAsync(incremental: true);
            await client.ReadUpdateAsync();
            client.LastRectangles.Should().Equal([(0, 688, 16, 16, Zrle)]);

            framebuffer.HasDirtyLog = false;
            server.Refresh();
            server.LastRefreshPixelsCompared.Should().Be(1024 * 768, "without a dirty log every pixel is compared");
        }

        await served;
    }

    [Theory]
    [InlineData(640, 480)]
    [InlineData(1024, 768)]   // 768 / 12 samples = 64: every sample line falls on a blank line between text rows
    public async Task A_scrolled_console_goes_as_one_CopyRect_to_clients_that_take_it(int width, int height)
    {
        var framebuffer = new TestFramebuffer(width, height);
        DrawText(framebuffer, firstLine: 0);
        using var server = new VncServer(framebuffer);
        (RfbTestClient copier, Task copierServed, _) = RfbTestClient.Connect(server);
        (RfbTestClient plain, Task plainServed, _) = RfbTestClient.Connect(server);
        await using (copier)
        await using (plain)
        {
            await copier.HandshakeAsync();
            await copier.SetEncodingsAsync(CopyRect, Zrle);
            await plain.HandshakeAsync();
            await plain.SetEncodingsAsync(Zrle);
            foreach (RfbTestClient c in new[] { copier, plain })
            {
                await c.RequestUpdateAsync(incremental: false);
                await c.ReadUpdateAsync();
            }

            for (int scroll = 1; scroll <= 3; scroll++)
            {
                // What fbcon does to scroll: every text line moves up one row of 16 pixel lines, a new line appears.
                DrawText(framebuffer, firstLine: scroll);
                framebuffer.MarkDirty(0, width * height * 4);
                server.Refresh();
                long copierBefore = copier.BytesRead, plainBefore = plain.BytesRead;
                foreach (RfbTestClient c in new[] { copier, plain })
                {
                    await c.RequestUpdateAsync(incremental: true);
                    await c.ReadUpdateAsync();
                    VncAssert.ScreenMatches(c, framebuffer.Expected(), $"after scroll {scroll}");
                }

                copier.LastRectangles.Should().ContainSingle(r => r.Encoding == CopyRect)
                    .Which.Should().Be((0, 0, width, height - 16, CopyRect));
                copier.LastRectangles.Where(r => r.Encoding != CopyRect).Should().OnlyContain(r => r.Y >= height - 16, "only the new line is sent as pixels");
                plain.LastRectangles.Should().NotContain(r => r.Encoding == CopyRect);
                (copier.BytesRead - copierBefore).Should().BeLessThan((plain.BytesRead - plainBefore) / 4);
            }
        }

        await copierServed;
        await plainServed;
    }

    [Fact]
    public async Task A_console_scrolled_in_a_back_buffer_and_flipped_to_is_still_one_CopyRect()
    {
        const int width = 1024, height = 768, page = width * 4 * height;
        var framebuffer = new TestFramebuffer(width, height);
        DrawText(framebuffer, firstLine: 0);
        using var server = new VncServer(framebuffer);
        (RfbTestClient copier, Task served, _) = RfbTestClient.Connect(server);
        await using (copier)
        {
            await copier.HandshakeAsync();
            await copier.SetEncodingsAsync(CopyRect, Zrle);
            await copier.RequestUpdateAsync(incremental: false);
            await copier.ReadUpdateAsync();

            for (int scroll = 1; scroll <= 3; scroll++)
            {
                // Draw the scrolled console in the other page, then flip to it by moving the start (the DISPI Y offset).
                framebuffer.Mode = framebuffer.Mode with { StartOffset = (scroll % 2) * page };
                DrawText(framebuffer, firstLine: scroll);
                server.Refresh();
                await copier.RequestUpdateAsync(incremental: true);
                await copier.ReadUpdateAsync();

                VncAssert.ScreenMatches(copier, framebuffer.Expected(), $"after flip {scroll}");
                copier.LastRectangles.Should().ContainSingle(r => r.Encoding == CopyRect)
                    .Which.Should().Be((0, 0, width, height - 16, CopyRect));
                copier.LastRectangles.Where(r => r.Encoding != CopyRect).Should().OnlyContain(r => r.Y >= height - 16, "only the new line is sent as pixels");
            }
        }

        await served;
    }

    /// <summary>Text-like lines: 30 rows of 16-pixel-high "glyphs", row n's content depends on n + firstLine.</summary>
    private static void DrawText(TestFramebuffer framebuffer, int firstLine)
    {
        framebuffer.Fill((x, y) =>
        {
            int line = (y / 16) + firstLine, column = x / 8, gy = y % 16, gx = x % 8;
            int glyph = HashCode.Combine(line, column) & 0xFFFF;
            bool ink = gy is > 2 and < 14 && ((glyph >> ((gx + gy) % 16)) & 1) == 1 && (line + column) % 7 != 0;
            return ink ? 0xAAAAAAu : 0x000000u;
        });
    }

    [Fact]
    public async Task A_mode_change_resizes_clients_that_can_and_clips_for_those_that_cannot()
    {
        var framebuffer = new TestFramebuffer(320, 200);
        framebuffer.Fill((x, y) => Noise(x, y, 2));
        using var server = new VncServer(framebuffer);
        (RfbTestClient extended, Task extendedServed, _) = RfbTestClient.Connect(server);
        (RfbTestClient basic, Task basicServed, _) = RfbTestClient.Connect(server);
        (RfbTestClient fixedSize, Task fixedServed, _) = RfbTestClient.Connect(server);
        await using (extended)
        await using (basic)
        await using (fixedSize)
        {
            await extended.HandshakeAsync();
            await extended.SetEncodingsAsync(Tight, -223, -308);
            await extended.RequestUpdateAsync(incremental: false);
            await extended.ReadUpdateAsync();
            extended.DesktopSizes.Should().Equal([(0, 0, 320, 200)], "a full update request gets the screen layout first");
            await extended.ReadUpdateAsync();
            VncAssert.ScreenMatches(extended, framebuffer.Expected());

            await basic.HandshakeAsync();
            await basic.SetEncodingsAsync(Raw, -223);
            await fixedSize.HandshakeAsync();
            await fixedSize.SetEncodingsAsync(Raw);
            foreach (RfbTestClient c in new[] { basic, fixedSize })
            {
                await c.RequestUpdateAsync(incremental: false);
                await c.ReadUpdateAsync();
            }

            framebuffer.Mode = framebuffer.Mode with { Width = 400, Height = 300, Stride = 1600 };
            framebuffer.Fill((x, y) => Noise(x, y, 3));
            server.Refresh();

            await extended.ReadUpdateAsync();   // sent at once, without waiting for a request
            extended.DesktopSizes.Last().Should().Be((0, 0, 400, 300));
            await extended.RequestUpdateAsync(incremental: true);
            await extended.ReadUpdateAsync();
            VncAssert.ScreenMatches(extended, framebuffer.Expected());

            await basic.ReadUpdateAsync();
            basic.DesktopSizes.Should().Equal([(-1, 0, 400, 300)]);
            await basic.RequestUpdateAsync(incremental: true);
            await basic.ReadUpdateAsync();
            VncAssert.ScreenMatches(basic, framebuffer.Expected());

            await fixedSize.RequestUpdateAsync(incremental: true);
            await fixedSize.ReadUpdateAsync();
            fixedSize.Width.Should().Be(320);
            uint[] expected = framebuffer.Expected();
            fixedSize.Screen[(199 * 320) + 319].Should().Be(expected[(199 * 400) + 319], "the part that fits is shown");
        }

        await extendedServed;
        await basicServed;
        await fixedServed;
    }

    [Fact]
    public async Task A_blanked_or_disabled_display_shows_black_and_an_8_bit_mode_its_palette()
    {
        var framebuffer = new TestFramebuffer(64, 32);
        framebuffer.Fill((x, y) => Noise(x, y, 4));
        using var server = new VncServer(framebuffer);
        (RfbTestClient client, Task served, _) = RfbTestClient.Connect(server);
        await using (client)
        {
            await client.HandshakeAsync();
            await client.RequestUpdateAsync(incremental: false);
            await client.ReadUpdateAsync();

            framebuffer.Mode = framebuffer.Mode with { Blanked = true };
            server.Refresh();
            await client.RequestUpdateAsync(incremental: true);
            await client.ReadUpdateAsync();
            client.Screen.Should().OnlyContain(p => p == 0);

            // 8 bpp through the palette: entry n is a grey of n.
            for (int i = 0; i < 256; i++)
            {
                framebuffer.Palette[i] = (uint)((i << 16) | (i << 8) | i);
            }

            framebuffer.PaletteVersion++;
            framebuffer.Mode = new DisplayMode(true, false, 64, 32, 8, 64, 0, false);
            for (int i = 0; i < 64 * 32; i++)
            {
                framebuffer.Memory[i] = (byte)i;
            }

            server.Refresh();
            await client.RequestUpdateAsync(incremental: true);
            await client.ReadUpdateAsync();
            client.Screen[5].Should().Be(0x050505u);
            client.Screen[300].Should().Be((uint)(300 & 255) * 0x010101u);
        }

        await served;
    }

    [Fact]
    public async Task A_client_that_stops_reading_costs_one_update_buffer_and_catches_up_later()
    {
        var framebuffer = new TestFramebuffer(640, 480);
        framebuffer.Fill((x, y) => Noise(x, y, 0));
        using var server = new VncServer(framebuffer);
        // The pipe holds 64 KiB, far less than one raw screen (1.2 MB): the first update stalls the sender.
        (RfbTestClient client, Task served, DuplexStream serverSide) = RfbTestClient.Connect(server, capacity: 64 * 1024);
        await using (client)
        {
            await client.HandshakeAsync();
            await client.SetEncodingsAsync(Raw);
            await client.RequestUpdateAsync(incremental: false);
            // The client now reads nothing while the guest redraws the whole screen 100 times and it keeps asking.
            for (int frame = 1; frame <= 100; frame++)
            {
                framebuffer.Fill((x, y) => Noise(x, y, frame));
                server.Refresh();
                await client.RequestUpdateAsync(incremental: true);
            }

            server.UpdatesSent.Should().BeLessThanOrEqualTo(1, "a stalled client gets no new frames queued");
            serverSide.Output.Buffered.Should().BeLessThanOrEqualTo(64 * 1024);
            int screenBytes = 640 * 480 * 4;
            server.ClientOutputCapacities().Should().ContainSingle()
                .Which.Should().BeLessThanOrEqualTo(screenBytes + (256 * 1024), "one update buffer, about one screen");

            // Reading again, the client gets the stalled frame and then the latest screen, not the 99 in between.
            await client.ReadUpdateAsync();
            for (int i = 0; i < 3 && !client.Screen.SequenceEqual(framebuffer.Expected()); i++)
            {
                await client.RequestUpdateAsync(incremental: true);
                await client.ReadUpdateAsync();
            }

            VncAssert.ScreenMatches(client, framebuffer.Expected());
            client.BytesRead.Should().BeLessThan(4L * screenBytes);
        }

        await served;
    }

    [Fact]
    public async Task Thousands_of_random_and_truncated_messages_close_clients_never_the_server()
    {
        var framebuffer = new TestFramebuffer(96, 64);
        framebuffer.Fill((x, y) => Noise(x, y, 5));
        using var server = new VncServer(framebuffer, new VncServerOptions { MaxClientCutText = 4096 });
        var random = new Random(1234);
        int messages = 0;
        for (int connection = 0; connection < 300; connection++)
        {
            (RfbTestClient client, Task served, _) = RfbTestClient.Connect(server);
            Task drain;
            await using (client)
            {
                if (connection % 10 == 0)
                {
                    // Garbage from the first byte: the handshake must cope too.
                    await client.ReadAsync(12);
                    await client.WriteAsync(RandomBytes(random, random.Next(1, 64)));
                    drain = Task.CompletedTask;
                }
                else
                {
                    await client.HandshakeAsync(connection % 3 == 0 ? "RFB 003.003\n" : "RFB 003.008\n");
                    drain = DrainAsync(client);
                    int count = random.Next(1, 30);
                    for (int i = 0; i < count; i++)
                    {
                        byte[] message = RandomMessage(random, framebuffer);
                        if (random.Next(8) == 0)
                        {
                            message = message[..random.Next(message.Length)];   // cut short
                        }

                        try
                        {
                            await client.WriteAsync(message);
                        }
                        catch (IOException)
                        {
                            break;   // the server already closed this client
                        }

                        messages++;
                        if (random.Next(5) == 0)
                        {
                            framebuffer.SetPixel(random.Next(96), random.Next(64), (uint)random.Next());
                            server.Refresh();
                        }
                    }
                }
            }

            await served.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            served.IsCompletedSuccessfully.Should().BeTrue("ServeAsync never throws");
            await drain;
        }

        messages.Should().BeGreaterThan(2000);
        server.InternalErrors.Should().Be(0, "no message may trip the server itself");
        server.ProtocolErrors.Should().BeGreaterThan(100);
        server.ClientCount.Should().Be(0);

        // And the server still serves.
        (RfbTestClient good, Task goodServed, _) = RfbTestClient.Connect(server);
        await using (good)
        {
            await good.HandshakeAsync();
            await good.SetEncodingsAsync(Tight);
            await good.RequestUpdateAsync(incremental: false);
            await good.ReadUpdateAsync();
            VncAssert.ScreenMatches(good, framebuffer.Expected());
        }

        await goodServed;
    }

    private static async Task DrainAsync(RfbTestClient client)
    {
        try
        {
            while (true)
            {
                await client.ReadAsync(1);
            }
        }
        catch (Exception ex) when (ex is EndOfStreamException or IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>A client message of a random kind with random fields: often valid, often not.</summary>
    private static byte[] RandomMessage(Random random, TestFramebuffer framebuffer)
    {
        byte[] m;
        switch (random.Next(12))
        {
            case 0:
                m = RandomBytes(random, 20);
                m[0] = 0;
                if (random.Next(2) == 0)
                {
                    (random.Next(3) switch { 0 => PixelFormat.Native, 1 => new PixelFormat(16, 16, true, true, 31, 63, 31, 11, 5, 0), _ => new PixelFormat(8, 8, false, false, 0, 0, 0, 0, 0, 0) })
                        .WriteTo(m.AsSpan(4));
                }

                return m;
            case 1:
                int count = random.Next(3) == 0 ? random.Next(65536) : random.Next(12);
                m = new byte[4 + (4 * Math.Min(count, 64))];
                m[0] = 2;
                BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), (ushort)count);
                int[] known = [0, 1, 7, 16, -223, -224, -239, -258, -261, -308, -250, -30, 5, 6];
                for (int i = 4; i < m.Length; i += 4)
                {
                    BinaryPrimitives.WriteInt32BigEndian(m.AsSpan(i), random.Next(2) == 0 ? known[random.Next(known.Length)] : random.Next());
                }

                return m;
            case 2:
            case 3:
                m = new byte[10];
                m[0] = 3;
                m[1] = (byte)random.Next(2);
                BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), (ushort)random.Next(random.Next(2) == 0 ? 100 : 65536));
                BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(4), (ushort)random.Next(random.Next(2) == 0 ? 70 : 65536));
                BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(6), (ushort)random.Next(random.Next(2) == 0 ? 100 : 65536));
                BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(8), (ushort)random.Next(random.Next(2) == 0 ? 70 : 65536));
                return m;
            case 4:
                m = RandomBytes(random, 8);
                m[0] = 4;
                return m;
            case 5:
                m = RandomBytes(random, 6);
                m[0] = 5;
                return m;
            case 6:
                int length = random.Next(4) == 0 ? random.Next() : random.Next(5000);
                m = new byte[8 + Math.Min(length, 5000)];
                m[0] = 6;
                BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(4), (uint)length);
                return m;
            case 7:
                int screens = random.Next(4);
                m = RandomBytes(random, 8 + (16 * screens));
                m[0] = 251;
                m[6] = (byte)(random.Next(3) == 0 ? random.Next(256) : screens);
                return m;
            case 8:
                m = RandomBytes(random, 12);
                m[0] = 255;
                m[1] = (byte)(random.Next(4) == 0 ? random.Next(256) : 0);
                return m;
            default:
                return RandomBytes(random, random.Next(1, 40));
        }
    }
}
