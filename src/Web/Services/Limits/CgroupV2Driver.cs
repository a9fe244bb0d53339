namespace Platform.Web.Services.Limits;

/// <summary>
/// cgroup v2: one tree. Controllers reach a group only when every parent lists them in <c>cgroup.subtree_control</c>,
/// which the kernel refuses for a parent that holds processes itself (the "no internal processes" rule): the
/// dashboard's own cgroup must then be a delegated one whose processes sit in a leaf (as systemd's <c>Delegate=</c>
/// arranges), and <see cref="Create"/> says so when it is not.
/// </summary>
/// <param name="baseDirectory">The dashboard's own cgroup directory.</param>
public sealed class CgroupV2Driver(string baseDirectory) : ICgroupDriver
{
    public static readonly string[] Controllers = ["memory", "cpu", "pids"];

    public string Version => "v2";

    public string DirectoryOf(string group, string controller) => Path.Combine(baseDirectory, group);

    public void Create(string group)
    {
        // Enable the controllers at each level from the dashboard's cgroup down to the VM's parent.
        string directory = baseDirectory;
        foreach (string part in group.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            EnableControllers(directory);
            directory = Path.Combine(directory, part);
            try
            {
                Directory.CreateDirectory(directory);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new IOException($"Making the cgroup {directory} failed: {ex.Message}", ex);
            }
        }
    }

    private static void EnableControllers(string directory)
    {
        string enabled = CgroupFiles.Read(directory, "cgroup.subtree_control") ?? "";
        var missing = Controllers.Where(c => !enabled.Split(' ', '\n').Contains(c)).ToArray();
        if (missing.Length == 0)
        {
            return;
        }

        try
        {
            CgroupFiles.Write(directory, "cgroup.subtree_control", string.Join(' ', missing.Select(c => "+" + c)));
        }
        catch (IOException ex)
        {
            throw new IOException(
                $"{ex.Message}. cgroup v2 lets a group hand controllers to its children only when it holds no processes itself: run the dashboard in a delegated cgroup (systemd: Delegate=yes) with its own processes in a leaf.",
                ex);
        }
    }

    public IReadOnlyList<string> ProcsFiles(string group) => [Path.Combine(baseDirectory, group, "cgroup.procs")];

    public void Apply(string group, VmResourceLimits limits)
    {
        string directory = Path.Combine(baseDirectory, group);
        CgroupFiles.Write(directory, "memory.max", CgroupFiles.Number(limits.MemoryBytes));
        string quota = limits.CpuQuotaMicroseconds is { } q ? CgroupFiles.Number(q) : "max";
        CgroupFiles.Write(directory, "cpu.max", $"{quota} {CgroupFiles.Number(VmResourceLimits.CpuPeriodMicroseconds)}");
        CgroupFiles.Write(directory, "cpu.weight", CgroupFiles.Number(limits.CpuWeight));
        CgroupFiles.Write(directory, "pids.max", limits.PidsMax is { } pids ? CgroupFiles.Number(pids) : "max");
    }

    public CgroupStats? ReadStats(string group)
    {
        string directory = Path.Combine(baseDirectory, group);
        if (!Directory.Exists(directory))
        {
            return null;
        }

        return new CgroupStats(
            CgroupFiles.ReadKey(directory, "cpu.stat", "usage_usec") * 1000,
            CgroupFiles.ReadKey(directory, "cpu.stat", "nr_periods"),
            CgroupFiles.ReadKey(directory, "cpu.stat", "nr_throttled"),
            CgroupFiles.ReadKey(directory, "cpu.stat", "throttled_usec") * 1000,
            CgroupFiles.ReadLong(directory, "memory.current"),
            CgroupFiles.ReadKey(directory, "memory.events", "max"),
            CgroupFiles.ReadKey(directory, "memory.events", "oom_kill"),
            CgroupFiles.ReadLong(directory, "pids.current"),
            CgroupFiles.ReadKey(directory, "pids.events", "max"));
    }

    public IReadOnlyList<int> Pids(string group) => CgroupFiles.ReadPids(Path.Combine(baseDirectory, group));

    public IReadOnlyList<string> Children(string parent)
    {
        string directory = Path.Combine(baseDirectory, parent);
        return Directory.Exists(directory) ? [.. Directory.GetDirectories(directory).Select(Path.GetFileName).OfType<string>()] : [];
    }

    public bool TryRemove(string group) => CgroupFiles.TryRemoveDirectory(Path.Combine(baseDirectory, group));
}
