using Platform.Web.Extensions;

var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    WebRootPath = WebRootLocator.Find(),
});

builder.AddPlatformServices();

var app = builder.Build();

await app.MigrateDatabaseAsync();
await app.EnsureAdministratorAsync();
app.UsePlatformPipeline();
app.MapPlatformEndpoints();
app.PrintWelcome();

await app.RunAsync();

/// <summary>Visible to <c>WebApplicationFactory</c> in the tests.</summary>
public partial class Program;
