using Platform.Web.Extensions;
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

builder.AddPlatformServices();

var app = builder.Build();

try
{
    await app.MigrateDatabaseAsync();
}
catch (DatabaseDamagedException damaged)
{
    // What is wrong and the way out, in words: a stack trace would name neither.
    await Console.Error.WriteLineAsync(damaged.Message);
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
