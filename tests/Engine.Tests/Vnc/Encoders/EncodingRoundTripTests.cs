using Platform.Engine.Tests.Vnc.Support;
using Platform.Engine.Vnc;

namespace Platform.Engine.Tests.Vnc.Encoders;

// Each encoding, each pixel format a client may ask for, each kind of picture: the server encodes, the test's own
// decoder (written from the RFB specification, see RfbTestClient) decodes, and the pixels must match. Several
// updates run on one connection so the persistent zlib streams of ZRLE and Tight are exercised across rectangles.
public sealed class EncodingRoundTripTests
{
    private const int Raw = 0, Tight = 7, Zrle = 16;

    public static readonly TheoryData<string> Formats = [.. FormatsByName.Keys];

    private static Dictionary<string, PixelFormat> FormatsByName => new()
    {
        ["native x8r8g8b8"] = PixelFormat.Native,
        ["32 big-endian bgr"] = new PixelFormat(32, 24, true, true, 255, 255, 255, 0, 8, 16),
        ["32 colour in high bytes"] = new PixelFormat(32, 24, false, true, 255, 255, 255, 24, 16, 8),
        ["32 depth 30 (10-bit channels)"] = new PixelFormat(32, 30, false, true, 1023, 1023, 1023, 20, 10, 0),
        ["16 r5g6b5 little-endian"] = new PixelFormat(16, 16, false, true, 31, 63, 31, 11, 5, 0),
        ["16 r5g6b5 big-endian"] = new PixelFormat(16, 16, true, true, 31, 63, 31, 11, 5, 0),
        ["16 x1r5g5b5"] = new PixelFormat(16, 15, false, true, 31, 31, 31, 10, 5, 0),
        ["8 bgr233"] = new PixelFormat(8, 8, false, true, 7, 7, 3, 0, 3, 6),
        ["8 colour map"] = new PixelFormat(8, 8, false, false, 0, 0, 0, 0, 0, 0),
    };

    private static readonly Dictionary<string, Func<int, int, uint>> Pictures = new()
    {
        ["noise"] = (x, y) => (uint)(HashCode.Combine(x, y) & 0xFFFFFF),
        ["solid"] = (_, _) => 0x3366CC,
        ["two colours"] = (x, y) => ((x * 7) ^ (y * 3)) % 5 == 0 ? 0xFFFFFFu : 0x000080u,
        ["five colours"] = (x, y) => (((x / 3) + (y / 5)) % 5) switch { 0 => 0xFF0000u, 1 => 0x00FF00u, 2 => 0x0000FFu, 3 => 0xFFFF00u, _ => 0x101010u },
        ["gradient"] = (x, y) => (uint)(((x * 255 / 200) << 16) | ((y * 255 / 130) << 8) | ((x + y) & 255)),
        ["runs"] = (x, y) => (uint)(((x / 40) * 0x202020) + ((y / 30) * 0x0F0000)) & 0xFFFFFF,
    };

    public static TheoryData<int, string, string> Cases()
    {
        var data = new TheoryData<int, string, string>();
        foreach (int encoding in new[] { Raw, Zrle, Tight })
        {
            foreach (string format in FormatsByName.Keys)
            {
                foreach (string picture in Pictures.Keys)
                {
                    data.Add(encoding, format, picture);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Full_and_incremental_updates_decode_to_the_screen(int encoding, string format, string picture)
    {
        var framebuffer = new TestFramebuffer(200, 130);
        framebuffer.Fill(Pictures[picture]);
        using var server = new VncServer(framebuffer);
        (RfbTestClient client, Task served, _) = RfbTestClient.Connect(server);
        await using (client)
        {
            await client.HandshakeAsync();
            await client.SetPixelFormatAsync(FormatsByName[format]);
            await client.SetEncodingsAsync(encoding);
            await client.RequestUpdateAsync(incremental: false);
            if (!FormatsByName[format].TrueColour)
            {
                (await client.ReadMessageAsync()).Should().Be(1, "a colour-map client gets the colour map first");
            }

            await client.ReadUpdateAsync();
            client.LastRectangles.Should().OnlyContain(r => r.Encoding == encoding);
            VncAssert.ScreenMatches(client, framebuffer.Expected(), "after the full update");

            var random = new Random(42);
            for (int round = 0; round < 4; round++)
            {
                int x0 = random.Next(180), y0 = random.Next(110), w = random.Next(1, 20), h = random.Next(1, 20);
                for (int y = y0; y < y0 + h; y++)
                {
                    for (int x = x0; x < x0 + w; x++)
                    {
                        framebuffer.SetPixel(x, y, (uint)random.Next(0x1000000));
                    }
                }

                server.Refresh();
                await client.RequestUpdateAsync(incremental: true);
                await client.ReadUpdateAsync();
                VncAssert.ScreenMatches(client, framebuffer.Expected(), $"after incremental update {round}");
                client.LastRectangles.Sum(r => r.Width * r.Height).Should().BeLessThan(200 * 130 / 2, "only changed tiles are sent");
            }
        }

        await served;
        server.ProtocolErrors.Should().Be(0);
        server.InternalErrors.Should().Be(0);
    }

    [Theory]
    [InlineData(Tight, 2100, 40)]    // wider than a Tight rectangle may be
    [InlineData(Tight, 300, 300)]    // more pixels than a Tight rectangle may hold
    [InlineData(Zrle, 300, 300)]
    [InlineData(Raw, 1024, 768)]
    public async Task Large_screens_round_trip(int encoding, int width, int height)
    {
        var framebuffer = new TestFramebuffer(width, height);
        framebuffer.Fill((x, y) => (x / 37 + y / 23) % 3 == 0 ? (uint)(HashCode.Combine(x, y) & 0xFFFFFF) : (uint)((x % 256) << 8));
        using var server = new VncServer(framebuffer);
        (RfbTestClient client, Task served, _) = RfbTestClient.Connect(server);
        await using (client)
        {
            await client.HandshakeAsync();
            await client.SetEncodingsAsync(encoding);
            await client.RequestUpdateAsync(incremental: false);
            await client.ReadUpdateAsync();
            VncAssert.ScreenMatches(client, framebuffer.Expected());
        }

        await served;
    }

    [Theory]
    [InlineData(Tight, 1)]
    [InlineData(Tight, 9)]
    [InlineData(Zrle, 1)]
    [InlineData(Zrle, 9)]
    public async Task Compression_levels_change_size_not_pixels(int encoding, int level)
    {
        var framebuffer = new TestFramebuffer(256, 128);
        framebuffer.Fill((x, y) => (uint)(((x * y) & 0xFF) << 8 | (x ^ y) & 0xFF));
        using var server = new VncServer(framebuffer);
        (RfbTestClient client, Task served, _) = RfbTestClient.Connect(server);
        await using (client)
        {
            await client.HandshakeAsync();
            await client.SetEncodingsAsync(encoding, -256 + level);
            await client.RequestUpdateAsync(incremental: false);
            await client.ReadUpdateAsync();
            VncAssert.ScreenMatches(client, framebuffer.Expected());
        }

        await served;
    }

    [Fact]
    public async Task Tight_streams_restart_with_reset_bits_when_the_compression_level_changes()
    {
        var framebuffer = new TestFramebuffer(128, 64);
        framebuffer.Fill((x, y) => (uint)(HashCode.Combine(x, y) & 0xFFFFFF));
        using var server = new VncServer(framebuffer);
        (RfbTestClient client, Task served, _) = RfbTestClient.Connect(server);
        await using (client)
        {
            await client.HandshakeAsync();
            await client.SetEncodingsAsync(Tight, -256 + 2);
            await client.RequestUpdateAsync(incremental: false);
            await client.ReadUpdateAsync();
            await client.SetEncodingsAsync(Tight, -256 + 8);
            framebuffer.Fill((x, y) => (uint)(HashCode.Combine(y, x) & 0xFFFFFF));
            server.Refresh();
            await client.RequestUpdateAsync(incremental: true);
            await client.ReadUpdateAsync();
            VncAssert.ScreenMatches(client, framebuffer.Expected(), "a decoder that did not reset its streams would fail here");
        }

        await served;
    }
}
