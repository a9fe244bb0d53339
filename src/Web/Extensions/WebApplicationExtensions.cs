using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore;
using Platform.Web.Components;
using Platform.Web.Data;
using Platform.Web.Endpoints;
using Platform.Web.Hubs;
using Platform.Web.Security;
using Platform.Web.Services;
using Platform.Web.Services.Cluster;
using Platform.Web.Services.Database;
using Scalar.AspNetCore;

namespace Platform.Web.Extensions;

public static class WebApplicationExtensions
{
    /// <summary>
    /// Checks the database, backs it up before a migration, applies pending migrations and switches SQLite to WAL, so
    /// readers never wait on the writer (<see cref="DatabaseStartup"/>); in a cluster, migrates the shared PostgreSQL
    /// database instead (<see cref="ClusterDatabase"/>).
    /// </summary>
    /// <exception cref="DatabaseDamagedException">The database file is damaged; the message says what to do.</exception>
    /// <exception cref="ClusterDatabaseUnavailableException">A cluster's PostgreSQL cannot be used; the message says why.</exception>
    public static async Task MigrateDatabaseAsync(this WebApplication app)
    {
        var cluster = app.Services.GetRequiredService<ClusterSettings>();
        if (cluster.IsConfigured)
        {
            await ClusterDatabase.MigrateAsync(app.Services.GetRequiredService<IDbContextFactory<PlatformDbContext>>(), cluster, app.Lifetime.ApplicationStopping);
            return;
        }

        await DatabaseStartup.MigrateAsync(app.Services.GetRequiredService<IDbContextFactory<PlatformDbContext>>(),
            app.Services.GetService<DatabaseBackups>(), app.Logger, app.Lifetime.ApplicationStopping);
        // SQLite made platform.db, its -wal and -shm files with the process's umask (0644): owner-only, like the rest.
        DataFolderPermissions.Secure(app.Services.GetRequiredService<PlatformOptions>().DataDirectory);
    }

    public static void UsePlatformPipeline(this WebApplication app)
    {
        // The API answers every error with problem details (RFC 9457); pages get the error and not-found pages.
        app.UseWhen(IsApi, api =>
        {
            api.UseExceptionHandler(new ExceptionHandlerOptions
            {
                StatusCodeSelector = ex => ex is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
            });
            api.UseStatusCodePages();
        });
        app.UseWhen(context => !IsApi(context), pages =>
        {
            if (!app.Environment.IsDevelopment())
            {
                pages.UseExceptionHandler("/error", createScopeForErrors: true);
            }

            pages.UseStatusCodePagesWithReExecute("/not-found");
        });
        // After the error handlers, which clear the headers of a failed response and run the rest again.
        app.UseMiddleware<SecurityHeadersMiddleware>();
        app.UseRepositoryWebRoot();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
        app.UsePlatformSecurity();
        app.UseAntiforgery();
    }

    /// <summary>
    /// Serves the repository's wwwroot (npm assets, our css/js), which is not in the build's static web assets
    /// manifest, before routing: a request routing had matched would reach MapStaticAssets' development handler,
    /// which serves the file too but logs a warning for each one (181 on a console page in Development).
    /// </summary>
    private static void UseRepositoryWebRoot(this WebApplication app)
    {
        // npm's manifests sit in the web root (npm installs into wwwroot/lib): build inputs that would tell anyone
        // every front-end package and version. Refused before any static-file handler (MapStaticAssets serves the
        // whole web root in development) can answer.
        app.Use((context, next) =>
        {
            if (context.Request.Path.Value is { } path
                && (path.Equals("/package.json", StringComparison.OrdinalIgnoreCase) || path.Equals("/package-lock.json", StringComparison.OrdinalIgnoreCase)))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }

            return next(context);
        });
        app.UseStaticFiles();
        app.UseRouting();
    }

    public static void MapPlatformEndpoints(this WebApplication app)
    {
        // The framework's and MudBlazor's files (_framework/, _content/), fingerprinted and compressed at build time.
        app.MapStaticAssets();
        app.MapHealthChecks("/healthz");
        app.MapPlatformMetrics();
        app.MapAccountEndpoints();
        app.MapPlatformApi();
        app.MapConsoleBridges();
        app.MapHub<VmHub>(VmHub.Path);
        // The OpenAPI document at /openapi/v1.json and a browsable reference at /scalar/v1.
        // Signed-in users only, by session or API token like the API itself.
        var signedIn = new AuthorizeAttribute { AuthenticationSchemes = SecurityServiceExtensions.ApiScheme };
        app.MapOpenApi().RequireAuthorization(signedIn);
        app.MapScalarApiReference(scalar => scalar.WithTitle("Platform API")).RequireAuthorization(signedIn);
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
    }

    /// <summary>Tells the person who ran the command where to go, once the server listens.</summary>
    public static void PrintWelcome(this WebApplication app)
    {
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            foreach (string url in app.Urls)
            {
                Console.WriteLine($"Platform dashboard: {url}");
            }
        });
    }

    // /metrics answers scrapers like the API: a 401 or 403 with problem details, never the not-found page.
    private static bool IsApi(HttpContext context) =>
        context.Request.Path.StartsWithSegments(ApiEndpoints.Prefix) || context.Request.Path.StartsWithSegments(MetricsServiceExtensions.Path);
}
