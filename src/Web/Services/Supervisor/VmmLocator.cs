namespace Platform.Web.Services.Supervisor;

/// <summary>
/// Finds platform-vmm: the configured path, else one beside the dashboard (a publish), else the one built with the
/// dashboard in the same repository, else the NativeAOT publish in <c>artifacts/vmm/</c> (bench/), else <c>PATH</c>.
/// </summary>
public static class VmmLocator
{
    public const string ProgramName = "platform-vmm";

    public static string? Find(string? configured)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return File.Exists(configured) ? Path.GetFullPath(configured) : null;
        }

        foreach (string candidate in Candidates())
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static IEnumerable<string> Candidates()
    {
        yield return Path.Combine(AppContext.BaseDirectory, ProgramName);
        if (SourceTree.Root is { } root)
        {
            // The build of the dashboard's own configuration first (bin/<Configuration>/net10.0): building the
            // dashboard builds it too, so it is never older than the dashboard. The NativeAOT publish is next.
            var appBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
            string configuration = appBin.Parent?.Name ?? "Release";
            yield return Path.Combine(root, "src", "Engine", "Vmm", "bin", configuration, appBin.Name, ProgramName);
            yield return Path.Combine(root, "artifacts", "vmm", ProgramName);
        }

        foreach (string folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            yield return Path.Combine(folder, ProgramName);
        }
    }
}
