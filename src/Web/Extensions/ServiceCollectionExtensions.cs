using Microsoft.EntityFrameworkCore;
using MudBlazor.Services;
using Platform.Web.Data;
using Platform.Web.Services;

namespace Platform.Web.Extensions;

public static class ServiceCollectionExtensions
{
    /// <summary>Everything the dashboard needs in the container, in one place so Program.cs stays short.</summary>
    public static void AddPlatformServices(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(PlatformOptions.Section).Get<PlatformOptions>() ?? new PlatformOptions();
        Directory.CreateDirectory(options.DataDirectory);
        builder.Services.AddSingleton(options);

        string connectionString = builder.Configuration.GetConnectionString("Platform")
            ?? $"Data Source={Path.Combine(options.DataDirectory, "platform.db")}";
        builder.Services.AddDbContextFactory<PlatformDbContext>(db => db.UseSqlite(connectionString));

        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddMudServices();
        builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database");
    }
}
