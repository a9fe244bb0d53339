namespace Platform.Web.Services;

/// <summary>
/// The source checkout the dashboard runs from, when it runs from one (<c>./platform run</c>, tests): the folder
/// above the program that holds <c>Platform.sln</c>. An installed dashboard has none, and everything here is then
/// null.
/// </summary>
public static class SourceTree
{
    /// <summary>The checkout's root folder, or null.</summary>
    public static string? Root { get; } = Find();

    /// <summary>A test guest's ELF kernel (<c>tests/guests/build/NAME.elf</c>, built by <c>make -C tests/guests</c>), or
    /// null when there is no checkout or the guest is not built.</summary>
    public static string? TestGuest(string name) =>
        Root is { } root && Path.Combine(root, "tests", "guests", "build", name + ".elf") is var path && File.Exists(path) ? path : null;

    private static string? Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Platform.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}
