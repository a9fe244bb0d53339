using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Authorization;
using OpenTelemetry.Metrics;
using Platform.Web.Security;
using Platform.Web.Services.Metrics;

namespace Platform.Web.Extensions;

public static class MetricsServiceExtensions
{
    /// <summary>Where Prometheus scrapes.</summary>
    public const string Path = "/metrics";

    /// <summary>
    /// OpenTelemetry metrics in the Prometheus text format: every running VM and the host (<see cref="PlatformMeter"/>),
    /// the HTTP server and SignalR connections (ASP.NET Core's own meters) and the .NET runtime.
    /// </summary>
    public static void AddPlatformMetrics(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton(builder.Configuration.GetSection(MetricsOptions.Section).Get<MetricsOptions>() ?? new MetricsOptions());
        builder.Services.AddSingleton<VmMetrics>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<VmMetrics>());
        builder.Services.AddSingleton<HostMetrics>();
        builder.Services.AddSingleton<IAuthorizationHandler, MetricsAccessHandler>();
        builder.Services.AddAuthorizationBuilder().AddPolicy(MetricsAccessRequirement.Policy, policy => policy
            // Tokens only: a scraper has no cookie, and without a token the answer is 401 with WWW-Authenticate: Bearer.
            .AddAuthenticationSchemes(ApiTokenAuthenticationHandler.SchemeName)
            .AddRequirements(new MetricsAccessRequirement()));
        var scope = new AppMeterScope();
        builder.Services.AddSingleton(scope);
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(PlatformMeter.Name)
            // signalr.server.active_connections and connection durations.
            .AddMeter("Microsoft.AspNetCore.Http.Connections", "Microsoft.AspNetCore.Server.Kestrel")
            .AddAspNetCoreInstrumentation()
            .AddRuntimeInstrumentation()
            // Meters are process-wide and OpenTelemetry listens by name (see AppMeterScope): only this app's.
            .AddView(scope.Filter)
            .AddPrometheusExporter());
    }

    public static void MapPlatformMetrics(this WebApplication app)
    {
        // Before the host starts, and so before the meter provider exists and sees any instrument.
        app.Services.GetRequiredService<AppMeterScope>().Factory = app.Services.GetRequiredService<IMeterFactory>();
        // The host's instruments exist once something asks for them; VmMetrics starts as a hosted service.
        app.Services.GetRequiredService<HostMetrics>();
        app.MapPrometheusScrapingEndpoint(Path).RequireAuthorization(MetricsAccessRequirement.Policy);
    }
}
