using Microsoft.AspNetCore.DataProtection;
using Platform.Web.Data;

namespace Platform.Web.Extensions;

/// <summary>
/// Where the dashboard keeps the keys that sign its cookies, antiforgery tokens and console tickets. ASP.NET Core's
/// default is a folder in the home directory of whoever runs it: lost with a container, and different on each host of a
/// cluster, so a user signed in on one dashboard was a stranger to the next and every page's antiforgery token failed
/// there. The key ring lives in the dashboard's own database instead (SQLite on one host, the cluster's PostgreSQL),
/// under one application name, so every dashboard on that database shares it and a database backup carries it.
/// </summary>
public static class DataProtectionServiceExtensions
{
    /// <summary>The name every dashboard shares: keys are isolated per application name.</summary>
    public const string ApplicationName = "Platform";

    public static void AddPlatformDataProtection(this WebApplicationBuilder builder) =>
        builder.Services.AddDataProtection()
            .SetApplicationName(ApplicationName)
            .PersistKeysToDbContext<PlatformDbContext>();
}
