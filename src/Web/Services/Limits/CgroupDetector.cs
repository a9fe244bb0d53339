namespace Platform.Web.Services.Limits;

/// <summary>
/// Which cgroup version holds the controllers a VM needs on this host, and where the dashboard's own group is in it:
/// from <c>/proc/self/mountinfo</c> (what is mounted where, and which part of the tree a container sees) and
/// <c>/proc/self/cgroup</c> (the dashboard's group per hierarchy). A host may mount both, as this project's build host
/// does (v1 controllers, an empty v2 tree): the controllers decide, v1 where they are all bound there, else v2.
/// </summary>
public static class CgroupDetector
{
    /// <summary>The driver for this host, or null and why not.</summary>
    public static ICgroupDriver? Detect(out string reason)
    {
        string mountinfo, cgroup;
        try
        {
            mountinfo = File.ReadAllText("/proc/self/mountinfo");
            cgroup = File.ReadAllText("/proc/self/cgroup");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            reason = $"the process's cgroups cannot be read: {ex.Message}";
            return null;
        }

        return Detect(mountinfo, cgroup, File.ReadAllText, out reason);
    }

    /// <summary>As <see cref="Detect(out string)"/> over the given files' text; <paramref name="readFile"/> reads v2's <c>cgroup.controllers</c>.</summary>
    public static ICgroupDriver? Detect(string mountinfo, string procCgroup, Func<string, string> readFile, out string reason)
    {
        var mounts = ParseMounts(mountinfo);
        var own = ParseOwnGroups(procCgroup);

        var v1 = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string controller in CgroupV1Driver.Controllers)
        {
            var mount = mounts.FirstOrDefault(m => m.FsType == "cgroup" && m.Options.Contains(controller));
            var group = own.FirstOrDefault(g => g.Controllers.Contains(controller));
            if (mount is not null && group is not null)
            {
                v1[controller] = Join(mount, group.Path);
            }
        }

        if (v1.Count == CgroupV1Driver.Controllers.Length)
        {
            reason = "cgroup v1 (" + string.Join(", ", CgroupV1Driver.Controllers) + ")";
            return new CgroupV1Driver(v1);
        }

        var unified = mounts.FirstOrDefault(m => m.FsType == "cgroup2");
        var unifiedGroup = own.FirstOrDefault(g => g.HierarchyId == "0");
        if (unified is not null && unifiedGroup is not null)
        {
            string directory = Join(unified, unifiedGroup.Path);
            string controllers;
            try
            {
                controllers = readFile(Path.Combine(directory, "cgroup.controllers"));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                controllers = "";
            }

            var available = controllers.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            var missing = CgroupV2Driver.Controllers.Except(available).ToArray();
            if (missing.Length == 0)
            {
                reason = "cgroup v2 (" + string.Join(", ", CgroupV2Driver.Controllers) + ")";
                return new CgroupV2Driver(directory);
            }

            reason = $"cgroup v2 at {directory} lacks the {string.Join(", ", missing)} controller(s), and cgroup v1 mounts only {(v1.Count == 0 ? "none of them" : string.Join(", ", v1.Keys))}";
            return null;
        }

        reason = v1.Count == 0
            ? "no cgroup file system is mounted"
            : $"cgroup v1 mounts only {string.Join(", ", v1.Keys)} of {string.Join(", ", CgroupV1Driver.Controllers)}, and there is no cgroup v2";
        return null;
    }

    /// <summary>The group's directory: the mount point plus the group's path below the mount's root (a container sees a subtree).</summary>
    private static string Join(Mount mount, string groupPath)
    {
        string relative = groupPath;
        if (mount.Root != "/" && (groupPath == mount.Root || groupPath.StartsWith(mount.Root + "/", StringComparison.Ordinal)))
        {
            relative = groupPath[mount.Root.Length..];
        }

        return Path.Join(mount.Point, relative.TrimStart('/')).TrimEnd('/');
    }

    private sealed record Mount(string Root, string Point, string FsType, HashSet<string> Options);

    private sealed record OwnGroup(string HierarchyId, HashSet<string> Controllers, string Path);

    private static List<Mount> ParseMounts(string mountinfo)
    {
        var mounts = new List<Mount>();
        foreach (string line in mountinfo.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // id parent major:minor root mount-point options [optional fields…] - fstype source super-options
            string[] fields = line.Split(' ');
            int dash = Array.IndexOf(fields, "-");
            if (fields.Length < 5 || dash < 0 || dash + 3 >= fields.Length)
            {
                continue;
            }

            mounts.Add(new Mount(Unescape(fields[3]), Unescape(fields[4]), fields[dash + 1], [.. fields[dash + 3].Split(',')]));
        }

        return mounts;
    }

    private static List<OwnGroup> ParseOwnGroups(string procCgroup)
    {
        var groups = new List<OwnGroup>();
        foreach (string line in procCgroup.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // hierarchy-id:controller-list:path ("0::/path" for v2)
            string[] parts = line.Split(':', 3);
            if (parts.Length == 3)
            {
                groups.Add(new OwnGroup(parts[0], [.. parts[1].Split(',', StringSplitOptions.RemoveEmptyEntries)], parts[2]));
            }
        }

        return groups;
    }

    /// <summary>mountinfo writes space, tab, newline and backslash as octal escapes.</summary>
    private static string Unescape(string field) =>
        field.Replace("\\040", " ", StringComparison.Ordinal).Replace("\\011", "\t", StringComparison.Ordinal)
            .Replace("\\012", "\n", StringComparison.Ordinal).Replace("\\134", "\\", StringComparison.Ordinal);
}
