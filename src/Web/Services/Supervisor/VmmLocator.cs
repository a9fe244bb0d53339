namespace Platform.Web.Services.Supervisor;

/// <summary>How a platform-vmm binary was built: NativeAOT (what users should run) or the JIT build of the solution.</summary>
public enum VmmBuildKind
{
    /// <summary>A self-contained NativeAOT program: starts in milliseconds, a few MiB of its own memory.</summary>
    NativeAot,
    /// <summary>The apphost of <c>dotnet build</c> (a <c>platform-vmm.dll</c> beside it): slower to start, larger.</summary>
    Jit,
}

/// <summary>The platform-vmm the supervisor launches, and why that one: the log and the Host page say both.</summary>
/// <param name="Path">The program; null when none was found (then <paramref name="Reason"/> says what to do).</param>
public sealed record VmmBinary(string? Path, VmmBuildKind Kind, string Reason)
{
    public string KindName => Kind == VmmBuildKind.NativeAot ? "NativeAOT" : "JIT";
}

/// <summary>
/// Finds platform-vmm, preferring the NativeAOT publish: the configured path (<c>Platform:Supervisor:VmmPath</c>),
/// else <c>vmm/platform-vmm</c> beside the dashboard (a publish, the Docker image), else — in a source checkout —
/// <c>artifacts/vmm/platform-vmm</c>, which <c>scripts/publish-vmm.sh</c> (run by <c>./platform run</c> and
/// <c>./platform test</c>) keeps current. Only when that publish is missing, or older than a source file it is built
/// from, does it fall back to the JIT build of the solution, saying so; last comes <c>PATH</c>.
/// </summary>
public static class VmmLocator
{
    public const string ProgramName = "platform-vmm";

    public static VmmBinary Locate(string? configured) => Locate(configured, AppContext.BaseDirectory, SourceTree.Root,
        Environment.GetEnvironmentVariable("PATH"));

    /// <summary>The search, with the places it looks given (tests play an installed dashboard or a checkout with them).</summary>
    internal static VmmBinary Locate(string? configured, string appDirectory, string? sourceRoot, string? searchPath)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return File.Exists(configured)
                ? Found(Path.GetFullPath(configured), "set by Platform:Supervisor:VmmPath")
                : new VmmBinary(null, VmmBuildKind.NativeAot,
                    $"Platform:Supervisor:VmmPath names {configured}, which does not exist: publish platform-vmm there or remove the setting.");
        }

        string besideApp = Path.Combine(appDirectory, "vmm", ProgramName);
        if (File.Exists(besideApp))
        {
            return Found(besideApp, "published beside the dashboard (vmm/)");
        }

        VmmBinary? staleFallback = null;
        if (sourceRoot is not null)
        {
            string published = Path.Combine(sourceRoot, "artifacts", "vmm", ProgramName);
            string? jit = JitBuild(sourceRoot, appDirectory);
            if (File.Exists(published))
            {
                string? newer = VmmPublishFreshness.NewerInput(sourceRoot, File.GetLastWriteTimeUtc(published));
                if (newer is null)
                {
                    return Found(published, "the NativeAOT publish of this checkout (scripts/publish-vmm.sh)");
                }

                string why = $"the NativeAOT publish in artifacts/vmm is older than {newer}";
                if (jit is not null)
                {
                    return Found(jit, $"{why}, so the JIT build runs until scripts/publish-vmm.sh (or ./platform run) publishes again");
                }

                staleFallback = Found(published, $"{why}, and there is no JIT build: run scripts/publish-vmm.sh");
            }
            else if (jit is not null)
            {
                return Found(jit, "there is no NativeAOT publish in artifacts/vmm: run scripts/publish-vmm.sh (./platform run does) for a VMM that starts faster and needs less memory");
            }
        }

        if (staleFallback is not null)
        {
            return staleFallback;
        }

        foreach (string folder in (searchPath ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(folder, ProgramName);
            if (File.Exists(candidate))
            {
                return Found(candidate, $"found on PATH ({folder})");
            }
        }

        return new VmmBinary(null, VmmBuildKind.NativeAot,
            "platform-vmm was not found: run ./platform run (it publishes artifacts/vmm/platform-vmm) or set Platform:Supervisor:VmmPath.");
    }

    private static VmmBinary Found(string path, string reason) =>
        new(path, File.Exists(Path.ChangeExtension(path, ".dll")) ? VmmBuildKind.Jit : VmmBuildKind.NativeAot, reason);

    /// <summary>The JIT build of the dashboard's own configuration (src/Engine/Vmm/bin/&lt;Configuration&gt;/net10.0), built with it.</summary>
    private static string? JitBuild(string sourceRoot, string appDirectory)
    {
        var appBin = new DirectoryInfo(appDirectory.TrimEnd('/'));
        string configuration = appBin.Parent?.Name ?? "Release";
        string path = Path.Combine(sourceRoot, "src", "Engine", "Vmm", "bin", configuration, appBin.Name, ProgramName);
        return File.Exists(path) ? path : null;
    }
}
