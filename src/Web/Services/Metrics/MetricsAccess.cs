using System.Net;
using Microsoft.AspNetCore.Authorization;
using Platform.Web.Security;

namespace Platform.Web.Services.Metrics;

/// <summary><c>Platform:Metrics</c> in appsettings.</summary>
public sealed class MetricsOptions
{
    public const string Section = "Platform:Metrics";

    /// <summary>
    /// Lets a scraper on this machine read <c>/metrics</c> without a token. Off by default: behind a reverse proxy on
    /// the same host every request comes from loopback, and this would open the metrics to whoever reaches the proxy.
    /// </summary>
    public bool AllowLoopback { get; set; }
}

/// <summary>
/// Who may scrape <c>/metrics</c>: an API token of a user with Sys.Audit on <c>/</c> — the metrics name every
/// VM — or, with <see cref="MetricsOptions.AllowLoopback"/>, anyone on this machine. Without a token the answer is 401,
/// with a token lacking Sys.Audit 403.
/// </summary>
internal sealed record MetricsAccessRequirement : IAuthorizationRequirement
{
    public const string Policy = "metrics";
}

internal sealed class MetricsAccessHandler(IPermissionService permissions, MetricsOptions options) : AuthorizationHandler<MetricsAccessRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, MetricsAccessRequirement requirement)
    {
        if (options.AllowLoopback && context.Resource is HttpContext http && IsLoopback(http.Connection.RemoteIpAddress))
        {
            context.Succeed(requirement);
            return;
        }

        if (context.User.Identity?.IsAuthenticated == true && (await permissions.GetAccessAsync(context.User)).Has(Privileges.SysAudit))
        {
            context.Succeed(requirement);
        }
    }

    private static bool IsLoopback(IPAddress? address) =>
        address is not null && IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
}
