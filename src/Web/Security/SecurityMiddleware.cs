using System.Security.Cryptography;
using Platform.Web.Data;

namespace Platform.Web.Security;

/// <summary>
/// Response headers that keep the dashboard's pages from being framed, sniffed or made to run foreign script.
/// The Content-Security-Policy allows only our own scripts (plus Blazor's inline import map, by a per-request
/// nonce), WebSockets to this host, and inline styles (MudBlazor and xterm.js set them); noVNC and xterm.js need no
/// more. The API reference (/scalar) gets a policy of its own that allows its inline start-up script. Over HTTPS
/// (but not on localhost) the browser is also told to use nothing but HTTPS from then on (HSTS).
/// </summary>
internal sealed class SecurityHeadersMiddleware(RequestDelegate next)
{
    public const string NonceItem = "platform:csp-nonce";

    public Task InvokeAsync(HttpContext http)
    {
        string nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        http.Items[NonceItem] = nonce;
        var headers = http.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "same-origin";
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=(), usb=()";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers["Cross-Origin-Resource-Policy"] = "same-origin";
        if (http.Request.IsHttps && !IsLoopback(http.Request.Host.Host))
        {
            // Served over HTTPS, the dashboard stays on it: a browser will not fall back to HTTP (and its cookies) for a year.
            // Not for localhost, where one HTTPS try would bind every local port's site to HTTPS.
            headers.StrictTransportSecurity = "max-age=31536000";
        }

        headers.ContentSecurityPolicy = http.Request.Path.StartsWithSegments("/scalar")
            ? "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
              "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
            : "default-src 'self'; " +
              $"script-src 'self' 'nonce-{nonce}'; " +
              "style-src 'self' 'unsafe-inline'; " +
              "img-src 'self' data: blob:; " +
              "font-src 'self' data:; " +
              "connect-src 'self'; " +
              "worker-src 'self' blob:; " +
              "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'";
        return next(http);
    }

    private static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (System.Net.IPAddress.TryParse(host.Trim('[', ']'), out var address) && System.Net.IPAddress.IsLoopback(address));
}

/// <summary>
/// Refuses a WebSocket (the Blazor circuit, the hub, the consoles) or a hub negotiation whose Origin is another
/// site's: a page elsewhere must not talk to the dashboard with its user's cookies. Requests without an Origin
/// (scripts, not browsers) pass; they carry no ambient browser credentials. A refusal goes to the audit log.
/// </summary>
internal sealed class WebSocketOriginMiddleware(RequestDelegate next, IAuditLog audit)
{
    public async Task InvokeAsync(HttpContext http)
    {
        bool guarded = http.WebSockets.IsWebSocketRequest
            || http.Request.Path.StartsWithSegments("/_blazor")
            || http.Request.Path.StartsWithSegments("/hubs");
        if (guarded && !IsSameOrigin(http.Request))
        {
            // Who the browser was signed in as is not known yet (authentication comes later): the address and the
            // site that tried are what matter.
            await audit.AddAsync(new AuditActor(null, null, http.Connection.RemoteIpAddress?.ToString()), AuditActions.CrossOrigin, AuditResult.Denied,
                detail: $"Origin {http.Request.Headers.Origin} on {http.Request.Path}");
            http.Response.StatusCode = StatusCodes.Status403Forbidden;
            await http.Response.WriteAsync("The request's Origin is not this dashboard.");
            return;
        }

        await next(http);
    }

    /// <summary>True without an Origin header, or when its host and port are the request's.</summary>
    public static bool IsSameOrigin(HttpRequest request)
    {
        string? origin = request.Headers.Origin;
        if (string.IsNullOrEmpty(origin))
        {
            return true;
        }

        return Uri.TryCreate(origin, UriKind.Absolute, out var uri)
            && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase)
            && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
    }
}

/// <summary>Sends a user who must change their password to the page for it, whatever page they ask for.</summary>
internal sealed class MustChangePasswordMiddleware(RequestDelegate next)
{
    public const string ChangePasswordPath = "/account/password";

    public Task InvokeAsync(HttpContext http)
    {
        var path = http.Request.Path;
        if (http.User.HasClaim(c => c.Type == PlatformClaims.MustChangePassword)
            && HttpMethods.IsGet(http.Request.Method)
            && !path.StartsWithSegments("/account") && !path.StartsWithSegments("/_framework") && !path.StartsWithSegments("/_content")
            && !path.StartsWithSegments("/_blazor") && !path.StartsWithSegments("/api") && !path.StartsWithSegments("/css")
            && !path.StartsWithSegments("/lib") && !Path.HasExtension(path.Value))
        {
            http.Response.Redirect(ChangePasswordPath);
            return Task.CompletedTask;
        }

        return next(http);
    }
}
