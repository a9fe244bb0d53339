using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Security;
using Platform.Web.Services.Runtime;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Endpoints;

// The WebSocket console bridges, against a stand-in VMM socket (bytes both ways) and the refusals before it.
public sealed class ConsoleBridgeTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Bytes_flow_both_ways_between_the_websocket_and_the_vmm_socket()
    {
        using var vmm = new EchoSocketServer();
        var vmId = Guid.NewGuid();
        using var app = factory.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<IVmRuntimeInfo>(new FixedSockets(vmId, vmm.Path))));
        var (_, cookie) = await TestAccounts.SignInAsync(app, TestAccounts.AdminName, TestAccounts.AdminPassword);
        var client = TestAccounts.ConsoleClient(app, cookie);
        client.SubProtocols.Add("binary");

        using var socket = await client.ConnectAsync(TestAccounts.ConsoleUri(app, await TestAccounts.AdminIdAsync(app.Services), vmId, ConsoleKind.Vnc), Token);
        socket.SubProtocol.Should().Be("binary", "noVNC asks for the binary subprotocol");
        await socket.SendAsync("RFB 003.008\n"u8.ToArray(), WebSocketMessageType.Binary, true, Token);

        (await ReceiveTextAsync(socket)).Should().Be("echo:RFB 003.008\n");
        vmm.Close();
        (await ReceiveCloseAsync(socket)).Should().BeTrue("the bridge closes the WebSocket when the VMM side ends");
    }

    [Fact]
    public async Task A_revoked_grant_closes_an_open_console_within_5_seconds()
    {
        using var vmm = new EchoSocketServer();
        var vmId = Guid.NewGuid();
        using var app = factory.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<IVmRuntimeInfo>(new FixedSockets(vmId, vmm.Path))));
        string userId = await TestAccounts.CreateUserAsync(app.Services, "console-revoked", (BuiltInRoles.VmUserId, null));
        var (_, cookie) = await TestAccounts.SignInAsync(app, "console-revoked");
        using var socket = await TestAccounts.ConsoleClient(app, cookie).ConnectAsync(TestAccounts.ConsoleUri(app, userId, vmId, ConsoleKind.Serial), Token);
        await socket.SendAsync("still here?"u8.ToArray(), WebSocketMessageType.Binary, true, Token);
        (await ReceiveTextAsync(socket)).Should().Be("echo:still here?");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await TestAccounts.RevokeAllAsync(app.Services, userId);
        var closed = async () =>
        {
            byte[] buffer = new byte[64];
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, timeout.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
            }
        };

        // The server aborts the connection: the client sees it end (as a close or a broken socket), never a timeout.
        var ended = await Record.ExceptionAsync(closed);
        (ended is not OperationCanceledException).Should().BeTrue($"the console must close within 5 s of the revocation ({ended?.GetType().Name ?? "closed"})");
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_websocket_from_another_origin_is_refused()
    {
        using var vmm = new EchoSocketServer();
        var vmId = Guid.NewGuid();
        using var app = factory.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<IVmRuntimeInfo>(new FixedSockets(vmId, vmm.Path))));
        var (_, cookie) = await TestAccounts.SignInAsync(app, TestAccounts.AdminName, TestAccounts.AdminPassword);
        var client = TestAccounts.ConsoleClient(app, cookie, origin: "https://evil.example");

        var act = async () => await client.ConnectAsync(
            TestAccounts.ConsoleUri(app, await TestAccounts.AdminIdAsync(app.Services), vmId, ConsoleKind.Serial), Token);

        (await act.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("403");
        vmm.Connections.Should().Be(0);
    }

    [Fact]
    public async Task A_vm_that_is_not_running_is_409_and_a_plain_request_is_400()
    {
        var (http, cookie) = await TestAccounts.SignInAsync(factory, TestAccounts.AdminName, TestAccounts.AdminPassword);
        var client = TestAccounts.ConsoleClient(factory, cookie);
        var act = async () => await client.ConnectAsync(
            TestAccounts.ConsoleUri(factory, await TestAccounts.AdminIdAsync(factory.Services), Guid.NewGuid(), ConsoleKind.Serial), Token);
        (await act.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("409");

        (await http.GetAsync($"/vms/{Guid.NewGuid()}/serial", Token)).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        http.Dispose();
    }

    private static async Task<string> ReceiveTextAsync(WebSocket socket)
    {
        byte[] buffer = new byte[4096];
        var result = await socket.ReceiveAsync(buffer, Token);
        return Encoding.ASCII.GetString(buffer, 0, result.Count);
    }

    private static async Task<bool> ReceiveCloseAsync(WebSocket socket)
    {
        byte[] buffer = new byte[4096];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return true;
            }
        }
    }

    private sealed class FixedSockets(Guid vmId, string path) : IVmRuntimeInfo
    {
        public Task<VmmStats?> GetStatsAsync(Guid id, CancellationToken cancellationToken) => Task.FromResult<VmmStats?>(null);

        public string? GetSocketPath(Guid id, VmSocket socket) => id == vmId ? path : null;

        public IDisposable SubscribeStats(Action<VmStatsSample> handler) => new CancellationTokenSource();
    }

    /// <summary>A Unix socket server that answers each read with "echo:" + the bytes: a stand-in for a VMM.</summary>
    private sealed class EchoSocketServer : IDisposable
    {
        private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        private Socket? _client;
        private int _connections;

        public EchoSocketServer()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "echo-" + Guid.NewGuid().ToString("N")[..8] + ".sock");
            _listener.Bind(new UnixDomainSocketEndPoint(Path));
            _listener.Listen(1);
            _ = ServeAsync();
        }

        public string Path { get; }

        public int Connections => Volatile.Read(ref _connections);

        private async Task ServeAsync()
        {
            try
            {
                _client = await _listener.AcceptAsync();
                Interlocked.Increment(ref _connections);
                byte[] buffer = new byte[4096];
                int read;
                while ((read = await _client.ReceiveAsync(buffer, SocketFlags.None)) > 0)
                {
                    await _client.SendAsync(Encoding.ASCII.GetBytes("echo:" + Encoding.ASCII.GetString(buffer, 0, read)), SocketFlags.None);
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // Closed by the test.
            }
        }

        public void Close() => _client?.Shutdown(SocketShutdown.Both);

        public void Dispose()
        {
            _client?.Dispose();
            _listener.Dispose();
            File.Delete(Path);
        }
    }
}
