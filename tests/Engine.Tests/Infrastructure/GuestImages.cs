namespace Platform.Engine.Tests.Infrastructure;

/// <summary>The Debian guest built by scripts/guest-images.sh (the README's commands build it first).</summary>
public static class GuestImages
{
    public static string Directory { get; } = System.IO.Path.Combine(
        Environment.GetEnvironmentVariable("PLATFORM_CACHE_DIR") is { Length: > 0 } dir
            ? dir
            : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "platform"),
        "images");

    public static string Path(string name)
    {
        string file = System.IO.Path.Combine(Directory, name);
        return File.Exists(file)
            ? file
            : throw new FileNotFoundException($"Guest image {file} is missing: run `bash scripts/guest-images.sh` (the README's commands do).");
    }

    /// <summary>key=value lines of manifest.txt.</summary>
    public static IReadOnlyDictionary<string, string> Manifest() =>
        File.ReadAllLines(Path("manifest.txt"))
            .Where(l => l.Contains('=', StringComparison.Ordinal) && !l.StartsWith('#'))
            .Select(l => l.Split('=', 2))
            .ToDictionary(p => p[0].Trim(), p => p[1].Trim());
}
