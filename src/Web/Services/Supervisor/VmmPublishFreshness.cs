namespace Platform.Web.Services.Supervisor;

/// <summary>
/// Whether the NativeAOT publish of platform-vmm is older than what it is built from, judged from the one list in
/// <c>scripts/vmm-inputs</c> that <c>scripts/publish-vmm.sh</c> reads too. The dashboard (<see cref="VmmLocator"/>) and
/// the process-level engine tests (which compile this file in) ask it, so all three agree on "stale".
/// </summary>
public static class VmmPublishFreshness
{
    public const string InputsFile = "scripts/vmm-inputs";

    /// <summary>
    /// An input (relative to <paramref name="sourceRoot"/>) changed after <paramref name="publishedAt"/>, or null when none
    /// did. A checkout without the inputs list is judged by nothing, so nothing is newer.
    /// </summary>
    public static string? NewerInput(string sourceRoot, DateTime publishedAt)
    {
        string listPath = Path.Combine(sourceRoot, InputsFile);
        if (!File.Exists(listPath))
        {
            return null;
        }

        string[] lines = File.ReadAllLines(listPath);
        string[] paths = Field(lines, "paths");
        string[] names = Field(lines, "names");
        foreach (string input in paths)
        {
            string path = Path.Combine(sourceRoot, input);
            IEnumerable<string> files = Directory.Exists(path) ? SourceFiles(path) : File.Exists(path) ? [path] : [];
            foreach (string file in files)
            {
                if (names.Any(name => Matches(Path.GetFileName(file), name)) && File.GetLastWriteTimeUtc(file) > publishedAt)
                {
                    return Path.GetRelativePath(sourceRoot, file);
                }
            }
        }

        return null;
    }

    private static string[] Field(string[] lines, string key) =>
        lines.Where(line => line.StartsWith(key + ":", StringComparison.Ordinal))
            .SelectMany(line => line[(key.Length + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToArray();

    /// <summary>Files under a folder, leaving out bin/ and obj/ (they change on every build of the solution), as find's -prune does.</summary>
    private static IEnumerable<string> SourceFiles(string folder)
    {
        foreach (string file in Directory.EnumerateFiles(folder))
        {
            yield return file;
        }

        foreach (string child in Directory.EnumerateDirectories(folder))
        {
            string name = Path.GetFileName(child);
            if (name is "bin" or "obj")
            {
                continue;
            }

            foreach (string file in SourceFiles(child))
            {
                yield return file;
            }
        }
    }

    /// <summary>The list's name patterns are <c>*.ext</c> or a plain name.</summary>
    private static bool Matches(string fileName, string pattern) =>
        pattern.StartsWith('*') ? fileName.EndsWith(pattern[1..], StringComparison.Ordinal) : fileName == pattern;
}
