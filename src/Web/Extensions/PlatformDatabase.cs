namespace Platform.Web.Extensions;

/// <summary>Where the dashboard's database is: <c>ConnectionStrings:Platform</c>, else <c>platform.db</c> in the data folder.</summary>
public static class PlatformDatabase
{
    public const string FileName = "platform.db";

    public static string ConnectionString(IConfiguration configuration, PlatformOptions options) =>
        configuration.GetConnectionString("Platform") ?? $"Data Source={Path.Combine(options.DataDirectory, FileName)}";
}
