namespace Platform.Engine.Tests.Infrastructure;

/// <summary>Finds the test-guest kit's ELF kernels (tests/guests/build, built by `make -C tests/guests`).</summary>
public static class TestGuests
{
    public static string Path(string name)
    {
        string file = System.IO.Path.Combine(RepositoryRoot, "tests", "guests", "build", name + ".elf");
        return File.Exists(file)
            ? file
            : throw new FileNotFoundException($"Test guest {file} is missing: run `make -C tests/guests` (the README's test command does).");
    }

    /// <summary>A boot-sector guest's 1 MiB disk image (tests/guests/boot/NAME.S, built into build/NAME.img).</summary>
    public static string BootImage(string name)
    {
        string file = System.IO.Path.Combine(RepositoryRoot, "tests", "guests", "build", name + ".img");
        return File.Exists(file)
            ? file
            : throw new FileNotFoundException($"Boot-sector guest {file} is missing: run `make -C tests/guests` (the README's test command does).");
    }

    /// <summary>An El Torito CD image of the kit (tests/guests/boot/NAME.S, built into build/NAME.iso with xorriso).</summary>
    public static string CdImage(string name)
    {
        string file = System.IO.Path.Combine(RepositoryRoot, "tests", "guests", "build", name + ".iso");
        return File.Exists(file)
            ? file
            : throw new FileNotFoundException($"CD guest {file} is missing: run `make -C tests/guests` (it needs xorriso; ./platform installs it).");
    }

    /// <summary>A guest laid out as a Linux bzImage (tests/guests/bzimage, built into build/NAME.bzImage).</summary>
    public static string BzImage(string name)
    {
        string file = System.IO.Path.Combine(RepositoryRoot, "tests", "guests", "build", name + ".bzImage");
        return File.Exists(file)
            ? file
            : throw new FileNotFoundException($"bzImage guest {file} is missing: run `make -C tests/guests` (the README's test command does).");
    }

    public static string RepositoryRoot { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Platform.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Cannot find the repository root (Platform.sln) above " + AppContext.BaseDirectory);
    }
}
