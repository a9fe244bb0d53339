using Platform.Web.Extensions;

namespace Platform.Web.Services.Database;

/// <summary>
/// <c>Platform.Web restore-latest-backup</c> (<c>./platform restore-db</c>): puts the newest backup in the database's
/// place, with the dashboard stopped, and says what it did. The way out the damaged-database message names.
/// </summary>
public static class DatabaseRestoreCommand
{
    public const string Name = "restore-latest-backup";

    /// <returns>The exit code: 0 when restored, 1 when there was nothing to restore or it failed.</returns>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        // The same configuration as the dashboard's (appsettings.json, Platform__* variables, --Platform:... arguments).
        var configuration = WebApplication.CreateBuilder(args).Configuration;
        var options = configuration.GetSection(PlatformOptions.Section).Get<PlatformOptions>() ?? new PlatformOptions();
        if (DatabaseStartup.FileOf(PlatformDatabase.ConnectionString(configuration, options)) is not { } path)
        {
            error.WriteLine("The database is not a file: there is nothing to restore.");
            return 1;
        }

        try
        {
            var (restored, aside) = new DatabaseBackups(path, TimeProvider.System).RestoreLatest();
            output.WriteLine($"Restored {path} from {restored.Path} (taken {restored.TakenAt:yyyy-MM-dd HH:mm} UTC).");
            output.WriteLine(aside is null ? "There was no database file before." : $"The database that was there is kept as {aside}.");
            output.WriteLine("Changes made after that backup are not in it. Start the dashboard again.");
            return 0;
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"Could not restore {path}: {ex.Message}");
            return 1;
        }
    }
}
