namespace Platform.E2E.Tests.Infrastructure;

/// <summary>Where browser tests keep screenshots: <c>PLATFORM_ARTIFACTS</c>, else <c>TestResults/screenshots</c> beside the tests.</summary>
public static class Artifacts
{
    public static string PathFor(string fileName)
    {
        string folder = Environment.GetEnvironmentVariable("PLATFORM_ARTIFACTS") is { Length: > 0 } configured
            ? configured
            : Path.Combine(AppContext.BaseDirectory, "TestResults", "screenshots");
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, fileName);
    }
}
