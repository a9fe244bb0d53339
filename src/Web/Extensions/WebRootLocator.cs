namespace Platform.Web.Extensions;

/// <summary>
/// Finds the folder of static files. The repository keeps them in <c>wwwroot/</c> at its root (shared by the app,
/// the npm build and the Dockerfile), so a development run from <c>src/Web</c> walks up to it; a published app
/// carries its own <c>wwwroot/</c> beside the binaries. <c>PLATFORM_WEBROOT</c> overrides both.
/// </summary>
public static class WebRootLocator
{
    public static string? Find()
    {
        string? configured = Environment.GetEnvironmentVariable("PLATFORM_WEBROOT");
        if (!string.IsNullOrEmpty(configured))
        {
            return Path.GetFullPath(configured);
        }

        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "wwwroot");
                // The repository's wwwroot is the one with the npm manifest; a published one has lib/ or css/.
                if (File.Exists(Path.Combine(candidate, "package.json")) || Directory.Exists(Path.Combine(candidate, "css")))
                {
                    return candidate;
                }
            }
        }

        return null; // ASP.NET Core's default: <content root>/wwwroot
    }
}
