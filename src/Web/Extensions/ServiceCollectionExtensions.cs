using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using MudBlazor.Services;
using Platform.Web.Data;
using Platform.Web.Services;
using Platform.Web.Services.CloudInit;
using Platform.Web.Services.Cluster;
using Platform.Web.Services.Database;
using Platform.Web.Services.Host;
using Platform.Web.Services.Disks;
using Platform.Web.Services.Images;
using Platform.Web.Services.Networks;
using Platform.Web.Services.Tasks;
using Platform.Web.Services.Vms;

namespace Platform.Web.Extensions;

public static class ServiceCollectionExtensions
{
    /// <summary>Everything the dashboard needs in the container, in one place so Program.cs stays short.</summary>
    public static void AddPlatformServices(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(PlatformOptions.Section).Get<PlatformOptions>() ?? new PlatformOptions();
        DataFolderPermissions.Secure(options.DataDirectory);
        builder.Services.AddSingleton(options);

        var cluster = builder.Configuration.GetSection(ClusterSettings.Section).Get<ClusterSettings>() ?? new ClusterSettings();
        if (cluster.Problems() is { Count: > 0 } problems)
        {
            throw new ClusterSettingsException(problems);
        }

        builder.Services.AddSingleton(cluster);
        builder.AddPlatformDatabase(options, cluster);
        builder.AddPlatformDataProtection();
        builder.AddPlatformCluster(cluster);

        // A build run with `dotnet run` (./platform run) serves package assets (MudBlazor's css/js, blazor.web.js)
        // from the build's static web assets manifest, which ASP.NET Core only reads by itself in Development.
        // A published app has no such manifest and this does nothing.
        builder.WebHost.UseStaticWebAssets();
        builder.Services.AddRazorComponents().AddInteractiveServerComponents(circuits =>
        {
            // A circuit whose browser went away (a closed tab, a reload, a navigation whose disconnect beacon did not
            // arrive) keeps every component of its page: with 200 VMs, about 2 MB. Blazor's defaults keep up to 100 of
            // them for 3 minutes, which under ordinary use held ~45 dead circuits and half the dashboard's heap. A
            // minute still covers a network blip or a laptop's short sleep; a browser back later reloads the page,
            // which costs a round trip and loses nothing (every page reads its state from the server).
            circuits.DisconnectedCircuitRetentionPeriod = TimeSpan.FromMinutes(1);
            circuits.DisconnectedCircuitMaxRetained = 20;
        });
        // Snackbars at the bottom: at the top right (MudBlazor's default) they covered the power buttons after each action.
        builder.Services.AddMudServices(config => config.SnackbarConfiguration.PositionClass = MudBlazor.Defaults.Classes.Position.BottomRight);
        // Per circuit: which power actions the user said not to confirm again.
        builder.Services.AddScoped<Platform.Web.Components.Vms.PowerConfirmations>();
        // Per circuit: the browser's time zone, for times on charts.
        builder.Services.AddScoped<Platform.Web.Components.BrowserTimeZone>();
        builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database");
        builder.AddPlatformSecurity();

        builder.Services.AddVmServices();
        builder.AddVmSupervisor(cluster);
        builder.AddClusterVmRuntime(cluster);
        builder.AddApiServices();
        builder.AddPlatformMetrics();
        builder.Services.AddPlatformHistory();
    }

    /// <summary>The domain services pages and the API share.</summary>
    public static IServiceCollection AddVmServices(this IServiceCollection services)
    {
        services.AddSingleton<IHostInfo, ProcHostInfo>();
        services.AddSingleton<VmEventLog>();
        services.AddSingleton<IVmEventLog>(sp => sp.GetRequiredService<VmEventLog>());
        services.AddSingleton<TaskLog>();
        services.AddSingleton<ITaskLog>(sp => sp.GetRequiredService<TaskLog>());
        // Before the supervisor's start-up, which may begin tasks (autostart): see TaskRetention.StartAsync.
        services.AddHostedService<TaskRetention>();
        services.AddSingleton<ImageLibrary>();
        services.AddSingleton<IDiskImageTool, DiskImageTool>();
        services.AddSingleton<VmDiskFiles>();
        services.AddSingleton<VmDiskService>();
        services.AddSingleton<VmSnapshotService>();
        services.AddSingleton<CloudInitService>();
        services.AddSingleton<VmCloneService>();
        services.AddHostedService<CloneStagingSweeper>();
        services.AddSingleton<IRunningDiskResizer, ControlSocketDiskResizer>();
        services.AddSingleton<IRunningDiskThrottle, ControlSocketDiskThrottle>();
        services.AddSingleton<IRunningCdrom, ControlSocketCdrom>();
        services.AddSingleton<VmCdromService>();
        services.AddSingleton<IRunningNics, ControlSocketNics>();
        services.AddSingleton<VmNicLinkService>();
        services.AddSingleton<Platform.Web.Services.Quotas.QuotaService>();
        services.AddSingleton<Platform.Web.Services.Quotas.QuotaAdministration>();
        services.AddSingleton<Platform.Web.Services.Quotas.OwnerlessVms>();
        services.AddSingleton<Platform.Web.Services.Cluster.VmHostChoice>();
        services.AddSingleton<VmService>();
        services.AddSingleton<VmPowerService>();
        services.AddSingleton<IHostBridges, SysfsHostBridges>();
        services.AddSingleton<NetworkService>();
        return services;
    }

    /// <summary>REST API plumbing: ProblemDetails for every error, enums as strings, the OpenAPI document.</summary>
    private static void AddApiServices(this WebApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails();
        builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        builder.Services.AddOpenApi("v1", openApi => openApi.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Platform API";
            document.Info.Description = """
                Manage VMs, their power state, the image library and the event log.
                Concurrency: GET /api/v1/vms/{id} returns the VM's version in an ETag header; PUT and DELETE take it
                back in If-Match. PUT without If-Match is refused with 428; a version someone else replaced is 409.
                Errors are RFC 9457 problem details; invalid input is a validation problem with errors per field.
                """;
            return Task.CompletedTask;
        }));
    }
}
