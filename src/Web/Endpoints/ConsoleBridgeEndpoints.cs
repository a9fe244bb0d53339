using System.Net.Sockets;
using System.Net.WebSockets;
using Platform.Web.Security;
using Platform.Web.Services.Metrics;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Supervisor;

namespace Platform.Web.Endpoints;

/// <summary>
/// The console bridges: <c>/vms/{id}/serial</c> and <c>/vms/{id}/vnc</c> are WebSocket endpoints that pipe bytes
/// between the browser (xterm.js, noVNC) and the running VMM's serial.sock / vnc.sock. Each direction awaits its
/// send before reading more, so a slow side holds the other back instead of growing a buffer here.
/// <see cref="ConsoleAccessExtensions.RequireConsoleAccess"/> lets in only the session cookie with a console ticket
/// and VM.Console, and aborts the connection when that access is revoked.
/// </summary>
public static class ConsoleBridgeEndpoints
{
    private const int BufferSize = 64 * 1024;

    public static IEndpointRouteBuilder MapConsoleBridges(this IEndpointRouteBuilder app)
    {
        app.Map("/vms/{id:guid}/serial", (HttpContext context, Guid id, IVmRuntimeInfo runtime) =>
            BridgeAsync(context, id, VmSocket.Serial, runtime)).WithName("SerialConsoleBridge").ExcludeFromDescription()
            .RequireConsoleAccess(ConsoleKind.Serial);
        app.Map("/vms/{id:guid}/vnc", (HttpContext context, Guid id, IVmRuntimeInfo runtime) =>
            BridgeAsync(context, id, VmSocket.Vnc, runtime)).WithName("VncConsoleBridge").ExcludeFromDescription()
            .RequireConsoleAccess(ConsoleKind.Vnc);
        return app;
    }

    private static async Task<IResult> BridgeAsync(HttpContext context, Guid vmId, VmSocket which, IVmRuntimeInfo runtime)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            return Results.Problem("This is a WebSocket endpoint for the dashboard's console.", statusCode: StatusCodes.Status400BadRequest);
        }

        if (!IsSameOrigin(context.Request))
        {
            // A page on another site must not open a console with the user's cookies (cross-site WebSocket hijacking).
            return Results.Problem("The request's Origin is not this dashboard.", statusCode: StatusCodes.Status403Forbidden);
        }

        if (runtime.RemoteHostOf(vmId) is { } host)
        {
            return Results.Problem(
                $"The VM runs on host {host}: the console of a VM on another host is not bridged yet. Open it from {host}'s dashboard.",
                statusCode: StatusCodes.Status409Conflict);
        }

        string? path = runtime.GetSocketPath(vmId, which);
        if (path is null)
        {
            return Results.Problem(which == VmSocket.Vnc ? "The VM is not running or has no display." : "The VM is not running.",
                statusCode: StatusCodes.Status409Conflict);
        }

        Socket vmm;
        try
        {
            vmm = await VmmSockets.ConnectAsync(path, context.RequestAborted);
        }
        catch (SocketException ex)
        {
            return Results.Problem($"The VMM did not accept the console connection: {ex.Message}", statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        using var connected = vmm;
        // noVNC asks for the "binary" subprotocol when given one; answer it if asked, as websockify does.
        string? subProtocol = context.WebSockets.WebSocketRequestedProtocols.Contains("binary") ? "binary" : null;
        using var browser = await context.WebSockets.AcceptWebSocketAsync(subProtocol);
        using var open = PlatformMeter.ConsoleOpened(which == VmSocket.Vnc ? "vnc" : "serial");
        using var done = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var toBrowser = VmmToBrowserAsync(vmm, browser, done.Token);
        var toVmm = BrowserToVmmAsync(browser, vmm, done.Token);
        await Task.WhenAny(toBrowser, toVmm);
        await done.CancelAsync();
        await Task.WhenAll(toBrowser, toVmm).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await CloseAsync(browser);
        return Results.Empty;
    }

    private static async Task VmmToBrowserAsync(Socket vmm, WebSocket browser, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[BufferSize];
        try
        {
            int read;
            while ((read = await vmm.ReceiveAsync(buffer, SocketFlags.None, cancellationToken)) > 0)
            {
                await browser.SendAsync(buffer.AsMemory(0, read), WebSocketMessageType.Binary, endOfMessage: true, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is SocketException or WebSocketException or OperationCanceledException)
        {
            // Either side went away; the other is closed by the caller.
        }
    }

    private static async Task BrowserToVmmAsync(WebSocket browser, Socket vmm, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[BufferSize];
        try
        {
            while (true)
            {
                var received = await browser.ReceiveAsync(buffer.AsMemory(), cancellationToken);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                // Text frames carry keystrokes as UTF-8 from simple clients; bytes are bytes either way.
                int sent = 0;
                while (sent < received.Count)
                {
                    sent += await vmm.SendAsync(buffer.AsMemory(sent, received.Count - sent), SocketFlags.None, cancellationToken);
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or WebSocketException or OperationCanceledException)
        {
            // Either side went away; the other is closed by the caller.
        }
    }

    private static async Task CloseAsync(WebSocket browser)
    {
        if (browser.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await browser.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "console closed", timeout.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                // The browser is gone already.
            }
        }
    }

    /// <summary>True when the request has no Origin (not a browser) or an Origin whose host and port are the request's.</summary>
    internal static bool IsSameOrigin(HttpRequest request)
    {
        string? origin = request.Headers.Origin;
        if (string.IsNullOrEmpty(origin))
        {
            return true;
        }

        return Uri.TryCreate(origin, UriKind.Absolute, out var uri)
            && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }
}
