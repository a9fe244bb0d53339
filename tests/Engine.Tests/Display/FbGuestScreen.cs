using System.Net;
using System.Net.Sockets;
using Platform.Engine.Tests.Infrastructure;
using Platform.Engine.Tests.Vnc.Support;
using Platform.Engine.Vnc;

namespace Platform.Engine.Tests.Display;

/// <summary>What the fb test guest draws (tests/guests/fb.c) and how a VNC client's copy of the screen is checked against it.</summary>
internal static class FbGuestScreen
{
    public static readonly uint[] BarColours = [0xFFFFFF, 0xFFFF00, 0x00FFFF, 0x00FF00, 0xFF00FF, 0xFF0000, 0x0000FF, 0x000000];

    /// <summary>The FNV-1a checksum the guest printed after the last <paramref name="label"/>.</summary>
    public static uint GuestChecksum(string output, string label)
    {
        int at = output.LastIndexOf(label, StringComparison.Ordinal);
        at.Should().BeGreaterThanOrEqualTo(0, $"the guest prints \"{label}\"");
        return Convert.ToUInt32(output.Substring(at + label.Length, 10), 16);
    }

    /// <summary>Waits until the guest has printed the whole line with <paramref name="label"/>, then returns its checksum.</summary>
    public static async Task<uint> WaitForChecksumAsync(ControlledVm vm, string label, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            string output = vm.Output;
            int at = output.LastIndexOf(label, StringComparison.Ordinal);
            if (at >= 0 && output.IndexOf('\n', at) > at)
            {
                return GuestChecksum(output, label);
            }

            DateTime.UtcNow.Should().BeBefore(deadline, $"the guest prints \"{label}\"; it printed:\n{output}");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>fb.c's checksum: FNV-1a over the 0x00RRGGBB pixels of a rectangle, row by row.</summary>
    public static uint Checksum(Func<int, int, uint> pixel, int x, int y, int width, int height)
    {
        uint hash = 2166136261;
        for (int row = y; row < y + height; row++)
        {
            for (int col = x; col < x + width; col++)
            {
                hash = (hash ^ (pixel(col, row) & 0xFFFFFF)) * 16777619;
            }
        }

        return hash;
    }

    public static uint Checksum(RfbTestClient client, int x, int y, int width, int height) =>
        Checksum((col, row) => client.Screen[(row * client.Width) + col], x, y, width, height);

    /// <summary>The box with the text: width/8, height*5/8, width*3/4 by 48.</summary>
    public static uint BoxChecksum(RfbTestClient client) =>
        Checksum(client, client.Width / 8, client.Height * 5 / 8, client.Width * 3 / 4, 48);

    /// <summary>The echo line: full width, 16 lines from height - 24.</summary>
    public static uint EchoChecksum(RfbTestClient client) => Checksum(client, 0, client.Height - 24, client.Width, 16);

    /// <summary>The colour bars: the middle of each bar in the top half has its colour.</summary>
    public static void ShouldShowBars(Func<int, int, uint> pixel, int width, int height)
    {
        for (int i = 0; i < 8; i++)
        {
            int x = (i * (width / 8)) + (width / 16);
            (pixel(x, height / 4) & 0xFFFFFF).Should().Be(BarColours[i], $"bar {i} at ({x}, {height / 4})");
        }

        (pixel(width / 16, (height / 2) + 4) & 0xFFFFFF).Should().Be(0u, "below the bars is black");
    }

    /// <summary>Connects to a VNC Unix socket (vnc.sock) and completes the handshake.</summary>
    public static async Task<RfbTestClient> ConnectUnixAsync(string path, params int[] encodings)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), TestContext.Current.CancellationToken);
        return await HandshakeAsync(new NetworkStream(socket, ownsSocket: true), null, encodings);
    }

    public static async Task<RfbTestClient> ConnectTcpAsync(IPEndPoint endPoint, string? password, params int[] encodings)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endPoint, TestContext.Current.CancellationToken);
        return await HandshakeAsync(new NetworkStream(socket, ownsSocket: true), password, encodings);
    }

    private static async Task<RfbTestClient> HandshakeAsync(Stream stream, string? password, int[] encodings)
    {
        var client = new RfbTestClient(stream);
        try
        {
            await client.HandshakeAsync(password: password);
            await client.SetEncodingsAsync(encodings.Length > 0
                ? encodings
                : [RfbEncoding.Zrle, RfbEncoding.CopyRect, RfbEncoding.DesktopSize, RfbEncoding.QemuExtendedKeyEvent]);
            await client.RequestUpdateAsync(incremental: false);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>Asks for updates and reads them until <paramref name="done"/> holds.</summary>
    public static async Task ReadUntilAsync(RfbTestClient client, Func<RfbTestClient, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        do
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"The VNC client did not see {what} within {timeout.TotalSeconds} s.");
            }

            // Always one request outstanding before a read: the server sends pixels only when asked.
            await client.RequestUpdateAsync(incremental: true);
            try
            {
                await client.ReadUpdateAsync().WaitAsync(left, TestContext.Current.CancellationToken);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"The VNC client did not see {what} within {timeout.TotalSeconds} s.");
            }
        }
        while (!done(client));
    }
}
