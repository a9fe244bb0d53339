using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Platform.Engine.Tests.Infrastructure;
using Platform.Engine.Tests.Vnc.Support;
using Platform.Engine.Vnc;
using StbImageSharp;

namespace Platform.Engine.Tests.Vnc;

// Debian's own VNC clients against our server on a loopback TCP port, a synthetic screen, and the pixels they saved.
// gvnccapture (gtk-vnc: RFB 3.8, picks ZRLE/Tight itself) saves PNG; vncsnapshot (TightVNC 1.2.8: an RFB 3.3 client)
// saves JPEG, so its pixels are compared loosely. ./platform test installs both (packages gvncviewer, vncsnapshot).
public sealed class RealClientTests
{
    private const int Width = 320, Height = 200;

    /// <summary>Large flat areas, sharp edges and a gradient: easy to check after JPEG, hard to get right by luck.</summary>
    private static uint Picture(int x, int y) => (x / 80, y / 100) switch
    {
        (0, 0) => 0xFF0000,
        (1, 0) => 0x00FF00,
        (2, 0) => 0x0000FF,
        (3, 0) => 0xFFFFFF,
        _ => (uint)((x * 255 / Width) << 16 | (y * 255 / Height) << 8 | 0x40),
    };

    [Fact]
    public async Task Gvnccapture_saves_the_screen_pixel_for_pixel()
    {
        string tool = Tool("gvnccapture", "gvncviewer");
        string output = Path.Combine(Path.GetTempPath(), $"vnc-{Guid.NewGuid():N}.png");
        try
        {
            await CaptureAsync(port => [tool, $"127.0.0.1:{port - 5900}", output]);
            ImageResult image = Load(output);
            (image.Width, image.Height).Should().Be((Width, Height));
            for (int y = 0; y < Height; y++)
            {
                for (int x = 0; x < Width; x++)
                {
                    Rgb(image, x, y).Should().Be(Picture(x, y), $"pixel ({x}, {y}) came through a lossless encoding");
                }
            }
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Theory]
    [InlineData("raw")]
    [InlineData("tight")]
    [InlineData("copyrect tight")]
    public async Task Vncsnapshot_as_an_RFB_3_3_client_captures_the_screen(string encodings)
    {
        string tool = Tool("vncsnapshot", "vncsnapshot");
        string output = Path.Combine(Path.GetTempPath(), $"vnc-{Guid.NewGuid():N}.jpg");
        try
        {
            await CaptureAsync(port => [tool, "-quiet", "-nojpeg", "-quality", "100", "-encodings", encodings, $"127.0.0.1:{port - 5900}", output]);
            ImageResult image = Load(output);
            (image.Width, image.Height).Should().Be((Width, Height));
            // Away from edges (JPEG blurs them), every pixel within a small distance of the original.
            for (int y = 4; y < Height - 4; y += 3)
            {
                for (int x = 4; x < Width - 4; x += 3)
                {
                    if (x % 80 is < 4 or > 75 || y % 100 is < 4 or > 95)
                    {
                        continue;
                    }

                    uint got = Rgb(image, x, y), want = Picture(x, y);
                    for (int shift = 0; shift <= 16; shift += 8)
                    {
                        Math.Abs((int)((got >> shift) & 255) - (int)((want >> shift) & 255)).Should().BeLessThan(24, $"pixel ({x}, {y}) is {got:X6}, want {want:X6}");
                    }
                }
            }
        }
        finally
        {
            File.Delete(output);
        }
    }

    private static string Tool(string name, string package)
    {
        string path = $"/usr/bin/{name}";
        Assert.SkipUnless(File.Exists(path), $"{name} is not installed (Debian package {package}; ./platform test installs it)");
        return path;
    }

    /// <summary>Serves the picture on a loopback port (5900 + display) and runs the client until it exits.</summary>
    private static async Task CaptureAsync(Func<int, string[]> command)
    {
        var framebuffer = new TestFramebuffer(Width, Height);
        framebuffer.Fill(Picture);
        using var server = new VncServer(framebuffer, new VncServerOptions { DesktopName = "capture test" });
        using var listener = VncLoopback.Listen();
        int port = VncLoopback.Port(listener);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var sessions = new List<Task>();
        Task accepting = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    Socket socket = await listener.AcceptSocketAsync(stop.Token);
                    sessions.Add(server.ServeAsync(new NetworkStream(socket, ownsSocket: true), stop.Token));
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        Task refreshing = server.RunRefreshLoopAsync(TimeSpan.FromMilliseconds(20), stop.Token);

        string[] args = command(port);
        var start = new ProcessStartInfo(args[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in args[1..])
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        Task<string> stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{args[0]} did not finish: {await stdout} {await stderr}");
            }
        }

        await stop.CancelAsync();
        await accepting;
        await refreshing;
        await Task.WhenAll(sessions);
        process.ExitCode.Should().Be(0, $"{args[0]} said: {await stdout} {await stderr}");
        server.ProtocolErrors.Should().Be(0);
        server.InternalErrors.Should().Be(0);
    }

    private static ImageResult Load(string path)
    {
        using FileStream file = File.OpenRead(path);
        return ImageResult.FromStream(file, ColorComponents.RedGreenBlue);
    }

    private static uint Rgb(ImageResult image, int x, int y)
    {
        int i = ((y * image.Width) + x) * 3;
        return (uint)(image.Data[i] << 16 | image.Data[i + 1] << 8 | image.Data[i + 2]);
    }
}
