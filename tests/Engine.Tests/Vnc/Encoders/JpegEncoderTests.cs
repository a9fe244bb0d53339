using Platform.Engine.Tests.Vnc.Support;
using Platform.Engine.Vnc;
using Platform.Engine.Vnc.Encoders;
using StbImageSharp;

namespace Platform.Engine.Tests.Vnc.Encoders;

// The baseline JPEG encoder behind Tight's JPEG rectangles, checked with an independent decoder (stb_image), and
// Tight's choice of when to use it.
public sealed class JpegEncoderTests
{
    private const int Tight = 7;

    /// <summary>Smooth, photo-like content with many colours: what JPEG is for.</summary>
    private static uint Photo(int x, int y)
    {
        double r = 128 + (100 * Math.Sin(x / 23.0)) + (20 * Math.Cos((x + y) / 7.0));
        double g = 128 + (90 * Math.Cos(y / 17.0));
        double b = 128 + (60 * Math.Sin((x - y) / 31.0)) + ((x * y) % 5);
        return ((uint)Math.Clamp(r, 0, 255) << 16) | ((uint)Math.Clamp(g, 0, 255) << 8) | (uint)Math.Clamp(b, 0, 255);
    }

    [Fact]
    public void The_huffman_tables_cover_every_symbol_baseline_coding_needs()
    {
        var acSymbols = new HashSet<int> { 0x00, 0xF0 };
        for (int run = 0; run < 16; run++)
        {
            for (int size = 1; size <= 10; size++)
            {
                acSymbols.Add((run << 4) | size);
            }
        }

        JpegEncoder.AcLuminanceSymbols.Select(b => (int)b).Should().BeEquivalentTo(acSymbols);
        JpegEncoder.AcChrominanceSymbols.Select(b => (int)b).Should().BeEquivalentTo(acSymbols);
        JpegEncoder.AcLuminanceCounts.Sum(b => b).Should().Be(162);
        JpegEncoder.AcChrominanceCounts.Sum(b => b).Should().Be(162);
        JpegEncoder.DcLuminanceCounts.Sum(b => b).Should().Be(12);
        JpegEncoder.DcChrominanceCounts.Sum(b => b).Should().Be(12);
    }

    [Theory]
    [InlineData(100, 75, 40, 2.0)]
    [InlineData(75, 37, 29, 4.0)]      // odd sizes: partial macroblocks at the right and bottom
    [InlineData(15, 64, 64, 12.0)]
    public void A_jpeg_decodes_close_to_the_original(int quality, int width, int height, double maxMeanError)
    {
        var pixels = new uint[width * height];
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = Photo(i % width, i / width);
        }

        using var output = new RfbBuffer();
        new JpegEncoder().Encode(new ScreenPixels(pixels, width), new PixelRect(0, 0, width, height), quality, output);
        ImageResult image = ImageResult.FromMemory(output.WrittenSpan.ToArray(), ColorComponents.RedGreenBlue);
        (image.Width, image.Height).Should().Be((width, height));
        double error = 0;
        for (int i = 0; i < pixels.Length; i++)
        {
            for (int c = 0; c < 3; c++)
            {
                error += Math.Abs(image.Data[(i * 3) + c] - (int)((pixels[i] >> (16 - (8 * c))) & 255));
            }
        }

        (error / (pixels.Length * 3)).Should().BeLessThan(maxMeanError);
    }

    [Fact]
    public async Task Tight_sends_photos_as_jpeg_when_asked_for_quality_and_keeps_text_lossless()
    {
        var framebuffer = new TestFramebuffer(256, 192);
        framebuffer.Fill((x, y) => y < 128 ? Photo(x, y) : ((x / 4 + y / 8) % 3 == 0 ? 0xFFFFFFu : 0x000000u));
        using var server = new VncServer(framebuffer);
        (RfbTestClient jpeg, Task jpegServed, _) = RfbTestClient.Connect(server);
        (RfbTestClient lossless, Task losslessServed, _) = RfbTestClient.Connect(server);
        await using (jpeg)
        await using (lossless)
        {
            await jpeg.HandshakeAsync();
            await jpeg.SetEncodingsAsync(Tight, -32 + 6);     // quality level 6
            await lossless.HandshakeAsync();
            await lossless.SetEncodingsAsync(Tight);
            foreach (RfbTestClient c in new[] { jpeg, lossless })
            {
                await c.RequestUpdateAsync(incremental: false);
                await c.ReadUpdateAsync();
            }

            jpeg.JpegRectangles.Should().BeGreaterThan(0);
            lossless.JpegRectangles.Should().Be(0, "without a quality level Tight stays lossless");
            VncAssert.ScreenMatches(lossless, framebuffer.Expected());
            jpeg.BytesRead.Should().BeLessThan(lossless.BytesRead);

            uint[] expected = framebuffer.Expected();
            for (int i = 128 * 256; i < expected.Length; i++)
            {
                jpeg.Screen[i].Should().Be(expected[i], "64×64 tiles of two-colour text never go through JPEG");
            }

            double error = 0;
            for (int i = 0; i < 128 * 256; i++)
            {
                for (int shift = 0; shift <= 16; shift += 8)
                {
                    error += Math.Abs((int)((jpeg.Screen[i] >> shift) & 255) - (int)((expected[i] >> shift) & 255));
                }
            }

            (error / (128 * 256 * 3)).Should().BeLessThan(6);
        }

        await jpegServed;
        await losslessServed;
    }
}
