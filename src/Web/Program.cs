using Platform.Web.Extensions;
using Platform.Web.Services.Cluster;
using Platform.Web.Services.Database;

// ./platform restore-db: the way out of a damaged database, run with the dashboard stopped.
if (args is [DatabaseRestoreCommand.Name, .. var rest])
{
    return DatabaseRestoreCommand.Run(rest, Console.Out, Console.Error);
}

var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    WebRootPath = WebRootLocator.Find(),
});

try
{
    builder.AddPlatformServices();
}
catch (ClusterSettingsException wrong)
{
    await Console.Error.WriteLineAsync(wrong.Message);
    return 1;
}

var app = builder.Build();

try
{
    await app.MigrateDatabaseAsync();
}
catch (Exception ex) when (ex is DatabaseDamagedException or ClusterDatabaseUnavailableException)
{
    // What is wrong and the way out, in words: a stack trace would name neither.
    await Console.Error.WriteLineAsync(ex.Message);
    return 1;
}

await app.EnsureAdministratorAsync();
app.UsePlatformPipeline();
app.MapPlatformEndpoints();
app.PrintWelcome();

await app.RunAsync();
return 0;

/// <summary>Visible to <c>WebApplicationFactory</c> in the tests.</summary>
public partial class Program;
