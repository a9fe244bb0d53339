using Microsoft.EntityFrameworkCore;
using Platform.Web.Components;
using Platform.Web.Data;

namespace Platform.Web.Extensions;

public static class WebApplicationExtensions
{
    /// <summary>Applies pending migrations and switches SQLite to WAL, so readers never wait on the writer.</summary>
    public static async Task MigrateDatabaseAsync(this WebApplication app)
    {
        var factory = app.Services.GetRequiredService<IDbContextFactory<PlatformDbContext>>();
        await using var db = await factory.CreateDbContextAsync();
        await db.Database.MigrateAsync();
        await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;");
    }

    public static void UsePlatformPipeline(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/error", createScopeForErrors: true);
        }

        app.UseStatusCodePagesWithReExecute("/not-found");
        app.UseAntiforgery();
    }

    public static void MapPlatformEndpoints(this WebApplication app)
    {
        app.MapStaticAssets();
        // The repository's wwwroot (npm assets, our css/js) is not part of the static web assets manifest.
        app.UseStaticFiles();
        app.MapHealthChecks("/healthz");
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
}
