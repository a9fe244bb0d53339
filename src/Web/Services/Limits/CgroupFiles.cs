using System.Globalization;

namespace Platform.Web.Services.Limits;

/// <summary>Reading and writing cgroup files: one value per write, as the kernel wants, and errors that name the file.</summary>
internal static class CgroupFiles
{
    public static void Write(string directory, string file, string value)
    {
        string path = Path.Combine(directory, file);
        try
        {
            File.WriteAllText(path, value);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"Writing \"{value}\" to {path} failed: {ex.Message}", ex);
        }
    }

    public static string? Read(string directory, string file)
    {
        try
        {
            return File.ReadAllText(Path.Combine(directory, file));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static long ReadLong(string directory, string file) =>
        long.TryParse(Read(directory, file)?.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long value) ? value : 0;

    /// <summary>A value from a flat-keyed file (<c>cpu.stat</c>, <c>memory.events</c>): "key value" lines.</summary>
    public static long ReadKey(string directory, string file, string key)
    {
        foreach (string line in (Read(directory, file) ?? "").Split('\n'))
        {
            int space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space > 0 && line.AsSpan(0, space).SequenceEqual(key)
                && long.TryParse(line.AsSpan(space + 1).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long value))
            {
                return value;
            }
        }

        return 0;
    }

    public static IReadOnlyList<int> ReadPids(string directory)
    {
        var pids = new List<int>();
        foreach (string line in (Read(directory, "cgroup.procs") ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                pids.Add(pid);
            }
        }

        return pids;
    }

    /// <summary>rmdir: a cgroup directory goes only empty of tasks and child groups (its files are the kernel's).</summary>
    public static bool TryRemoveDirectory(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return true;
        }

        foreach (string child in Directory.GetDirectories(directory))
        {
            if (!TryRemoveDirectory(child))
            {
                return false;
            }
        }

        try
        {
            Directory.Delete(directory, recursive: false);
            return true;
        }
        catch (IOException) when (Directory.Exists(directory))
        {
            return false; // EBUSY: tasks remain.
        }
        catch (DirectoryNotFoundException)
        {
            return true;
        }
    }

    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
