using Platform.Engine.Tests.Vnc.Support;
using Platform.Engine.Vnc;

namespace Platform.Engine.Tests.Vnc.Encoders;

// Tight's choices, each checked by decoding what the server sent with the test's own decoder (RfbTestClient, written
// from rfbproto): which subencoding a kind of picture gets, the solid and two-colour areas it cuts out (at any pixel
// position, across the 16×16 tiles the search starts from), palette limits, and sizes down to one pixel.
public sealed class TightEncoderTests
{
    private const int Tight = 7;
    private const int CompressLevel0 = -256;
    private const int QualityLevel0 = -32;

    private static uint Noise(int x, int y) => (uint)(HashCode.Combine(x, y, 7) & 0xFFFFFF);

    /// <summary>A smooth ramp in every channel: many colours, each pixel what its neighbours predict.</summary>
    private static uint Ramp(int x, int y) => (uint)(((x & 255) << 16) | ((y & 255) << 8) | ((x + y) / 2 & 255));

    private static uint Photo(int x, int y)
    {
        double r = 128 + (100 * Math.Sin(x / 23.0)) + (20 * Math.Cos((x + y) / 7.0));
        double g = 128 + (90 * Math.Cos(y / 17.0));
        double b = 128 + (60 * Math.Sin((x - y) / 31.0)) + ((x * y) % 5);
        return ((uint)Math.Clamp(r, 0, 255) << 16) | ((uint)Math.Clamp(g, 0, 255) << 8) | (uint)Math.Clamp(b, 0, 255);
    }

    /// <summary>Black "glyphs" on white: two colours with structure.</summary>
    private static uint Text(int x, int y) => ((x % 12) < 9 && (y % 16) is > 2 and < 14 && ((x / 12) + (y / 16)) % 3 != 0 && ((x ^ y) & 2) == 0) ? 0u : 0xFFFFFFu;

    private static async Task<RfbTestClient> FullUpdateAsync(TestFramebuffer framebuffer, VncServer server, params int[] encodings)
    {
        (RfbTestClient client, _, _) = RfbTestClient.Connect(server);
        await client.HandshakeAsync();
        await client.SetEncodingsAsync(encodings.Length > 0 ? encodings : [Tight]);
        await client.RequestUpdateAsync(incremental: false);
        await client.ReadUpdateAsync();
        return client;
    }

    public static TheoryData<string, string> Kinds => new()
    {
        { "solid", "fill" },
        { "two colours", "mono" },
        { "five colours", "indexed" },
        { "ramp", "gradient" },
        { "noise", "full" },
    };

    private static Func<int, int, uint> PictureNamed(string name) => name switch
    {
        "solid" => (_, _) => 0x336699,
        "two colours" => Text,
        "five colours" => (x, y) => (((x / 3) + (y / 5)) % 5) switch { 0 => 0xFF0000u, 1 => 0x00FF00u, 2 => 0x0000FFu, 3 => 0xFFFF00u, _ => 0x101010u },
        "ramp" => Ramp,
        _ => Noise,
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Each_kind_of_picture_gets_its_subencoding_and_decodes_exactly(string picture, string kind)
    {
        var framebuffer = new TestFramebuffer(160, 96);
        framebuffer.Fill(PictureNamed(picture));
        using var server = new VncServer(framebuffer);
        await using RfbTestClient client = await FullUpdateAsync(framebuffer, server);
        client.TightKinds.Keys.Should().Contain(kind);
        VncAssert.ScreenMatches(client, framebuffer.Expected());
        server.InternalErrors.Should().Be(0);
    }

    [Fact]
    public async Task The_gradient_filter_goes_only_to_clients_with_three_byte_pixels()
    {
        var framebuffer = new TestFramebuffer(160, 96);
        framebuffer.Fill(Ramp);
        using var server = new VncServer(framebuffer);
        (RfbTestClient client, _, _) = RfbTestClient.Connect(server);
        await using (client)
        {
            await client.HandshakeAsync();
            await client.SetPixelFormatAsync(new PixelFormat(16, 16, false, true, 31, 63, 31, 11, 5, 0));
            await client.SetEncodingsAsync(Tight);
            await client.RequestUpdateAsync(incremental: false);
            await client.ReadUpdateAsync();
            client.TightKinds.Keys.Should().NotContain("gradient");
            VncAssert.ScreenMatches(client, framebuffer.Expected());
        }
    }

    [Fact]
    public async Task A_solid_area_off_the_tile_grid_is_found_to_the_pixel_and_sent_as_one_fill()
    {
        // A solid block from (13, 7) to (301, 250) on noise: its edges fall inside 16×16 tiles on every side.
        var framebuffer = new TestFramebuffer(320, 272);
        framebuffer.Fill((x, y) => x is >= 13 and < 301 && y is >= 7 and < 250 ? 0x2050A0u : Noise(x, y));
        using var server = new VncServer(framebuffer);
        await using RfbTestClient client = await FullUpdateAsync(framebuffer, server);
        VncAssert.ScreenMatches(client, framebuffer.Expected());
        client.LastRectangles.Should().Contain((13, 7, 288, 243, Tight), "the fill covers exactly the solid block");
        client.TightKinds["fill"].Should().Be(1);
    }

    [Fact]
    public async Task A_two_colour_area_is_cut_out_of_a_busy_screen_and_sent_as_bitmaps()
    {
        // Text from (21, 30) to (277, 190) surrounded by noise: the text goes as one-bit bitmaps, the noise apart.
        var framebuffer = new TestFramebuffer(320, 240);
        framebuffer.Fill((x, y) => x is >= 21 and < 277 && y is >= 30 and < 190 ? Text(x, y) : Noise(x, y));
        using var server = new VncServer(framebuffer);
        await using RfbTestClient client = await FullUpdateAsync(framebuffer, server);
        VncAssert.ScreenMatches(client, framebuffer.Expected());
        client.TightKinds.Should().ContainKey("mono");
        long monoPixels = client.LastRectangles
            .Where(r => r.X >= 21 && r.Right() <= 277 && r.Y >= 30 && r.Bottom() <= 190)
            .Sum(r => (long)r.Width * r.Height);
        monoPixels.Should().Be(256 * 160, "the whole text area was found, no more and no less");
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 37)]
    [InlineData(37, 1)]
    [InlineData(2, 2)]
    [InlineData(17, 3)]
    [InlineData(2049, 2)]    // one column past the widest Tight rectangle
    [InlineData(257, 256)]   // one line more than fits in 65536 pixels
    public async Task Edge_sizes_round_trip(int width, int height)
    {
        var framebuffer = new TestFramebuffer(width, height);
        framebuffer.Fill((x, y) => (x + y) % 3 == 0 ? Noise(x, y) : 0x808080u);
        using var server = new VncServer(framebuffer);
        await using RfbTestClient client = await FullUpdateAsync(framebuffer, server);
        VncAssert.ScreenMatches(client, framebuffer.Expected());
        client.LastRectangles.Should().OnlyContain(r => r.Width <= 2048 && (r.Width * r.Height <= 65536 || client.TightKinds.ContainsKey("fill")));
    }

    [Fact]
    public async Task One_pixel_changes_round_trip()
    {
        var framebuffer = new TestFramebuffer(64, 48);
        framebuffer.Fill(Ramp);
        using var server = new VncServer(framebuffer);
        await using RfbTestClient client = await FullUpdateAsync(framebuffer, server);
        var random = new Random(5);
        for (int round = 0; round < 12; round++)
        {
            framebuffer.SetPixel(random.Next(64), random.Next(48), (uint)random.Next(0x1000000));
            server.Refresh();
            await client.RequestUpdateAsync(incremental: true);
            await client.ReadUpdateAsync();
            VncAssert.ScreenMatches(client, framebuffer.Expected(), $"after change {round}");
        }
    }

    [Theory]
    [InlineData(256, "indexed")]   // the most a Tight palette holds
    [InlineData(257, "gradient")]  // one more: true colour (the ramp below is smooth, so the gradient filter)
    public async Task Palettes_hold_up_to_256_colours(int colours, string kind)
    {
        // 64×64 = 4096 pixels, so a palette of 256 pays (a palette must be under a quarter of the pixels).
        var framebuffer = new TestFramebuffer(64, 64);
        framebuffer.Fill((x, y) => (uint)(0x100000 + (((y * 64) + x) % colours * 255)));
        using var server = new VncServer(framebuffer);
        await using RfbTestClient client = await FullUpdateAsync(framebuffer, server);
        VncAssert.ScreenMatches(client, framebuffer.Expected());
        client.TightKinds.Keys.Should().Contain(kind);
    }

    [Fact]
    public async Task Jpeg_goes_only_to_photo_like_areas_and_only_with_a_quality_level()
    {
        // Top: a photo; middle: a screenful of colours with sharp edges (many colours, not smooth); bottom: text.
        var framebuffer = new TestFramebuffer(256, 320);
        framebuffer.Fill((x, y) => y < 128 ? Photo(x, y) : y < 256 ? (uint)((x / 8 * 0x0F1F2F) + (y / 8 * 0x203040)) & 0xFFFFFF : Text(x, y));
        using var server = new VncServer(framebuffer);
        await using RfbTestClient lossless = await FullUpdateAsync(framebuffer, server, Tight);
        await using RfbTestClient jpeg = await FullUpdateAsync(framebuffer, server, Tight, QualityLevel0 + 8);
        lossless.JpegRectangles.Should().Be(0, "without a quality level Tight stays lossless");
        VncAssert.ScreenMatches(lossless, framebuffer.Expected());
        jpeg.JpegRectangles.Should().BeGreaterThan(0);
        uint[] expected = framebuffer.Expected();
        for (int i = 128 * 256; i < expected.Length; i++)
        {
            jpeg.Screen[i].Should().Be(expected[i], $"pixel ({i % 256}, {i / 256}) is in a drawing, not a photo");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(9)]
    public async Task Every_compression_level_round_trips_and_higher_levels_send_less(int level)
    {
        var framebuffer = new TestFramebuffer(320, 240);
        framebuffer.Fill((x, y) => y < 120 ? Text(x, y) : ((x / 5) + (y / 7)) % 9 == 0 ? 0x102030u : Ramp(x, y));
        using var server = new VncServer(framebuffer);
        await using RfbTestClient chosen = await FullUpdateAsync(framebuffer, server, Tight, CompressLevel0 + level);
        await using RfbTestClient fastest = await FullUpdateAsync(framebuffer, server, Tight, CompressLevel0 + 1);
        VncAssert.ScreenMatches(chosen, framebuffer.Expected());
        chosen.BytesRead.Should().BeLessThanOrEqualTo(fastest.BytesRead);
    }
}

internal static class RectangleExtensions
{
    public static int Right(this (int X, int Y, int Width, int Height, int Encoding) r) => r.X + r.Width;

    public static int Bottom(this (int X, int Y, int Width, int Height, int Encoding) r) => r.Y + r.Height;
}
