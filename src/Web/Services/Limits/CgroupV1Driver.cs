namespace Platform.Web.Services.Limits;

/// <summary>
/// cgroup v1: a hierarchy per controller, each mounted on its own (or several together, as <c>cpu,cpuacct</c> often are).
/// A VM's group is made in each of memory, cpu, cpuacct and pids; the VMM joins them all.
/// </summary>
/// <param name="bases">Per controller, the dashboard's own cgroup directory in the hierarchy that holds that controller.</param>
public sealed class CgroupV1Driver(IReadOnlyDictionary<string, string> bases) : ICgroupDriver
{
    /// <summary>The controllers a VM's group needs; the detector offers v1 only when each is mounted.</summary>
    public static readonly string[] Controllers = ["memory", "cpu", "cpuacct", "pids"];

    /// <summary>"No limit" in <c>cpu.cfs_quota_us</c>.</summary>
    private const string NoQuota = "-1";

    public string Version => "v1";

    public string DirectoryOf(string group, string controller) => Path.Combine(bases[controller], group);

    /// <summary>Each hierarchy once, even where two controllers share one.</summary>
    private IEnumerable<string> Directories(string group) => bases.Values.Distinct(StringComparer.Ordinal).Select(b => Path.Combine(b, group));

    public void Create(string group)
    {
        foreach (string directory in Directories(group))
        {
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

    public IReadOnlyList<string> ProcsFiles(string group) => [.. Directories(group).Select(d => Path.Combine(d, "cgroup.procs"))];

    public void Apply(string group, VmResourceLimits limits)
    {
        string memory = DirectoryOf(group, "memory");
        CgroupFiles.Write(memory, "memory.limit_in_bytes", CgroupFiles.Number(limits.MemoryBytes));
        string cpu = DirectoryOf(group, "cpu");
        CgroupFiles.Write(cpu, "cpu.cfs_period_us", CgroupFiles.Number(VmResourceLimits.CpuPeriodMicroseconds));
        CgroupFiles.Write(cpu, "cpu.cfs_quota_us", limits.CpuQuotaMicroseconds is { } quota ? CgroupFiles.Number(quota) : NoQuota);
        CgroupFiles.Write(cpu, "cpu.shares", CgroupFiles.Number(limits.CpuShares));
        CgroupFiles.Write(DirectoryOf(group, "pids"), "pids.max", limits.PidsMax is { } pids ? CgroupFiles.Number(pids) : "max");
    }

    public CgroupStats? ReadStats(string group)
    {
        string cpu = DirectoryOf(group, "cpu");
        if (!Directory.Exists(cpu))
        {
            return null;
        }

        string memory = DirectoryOf(group, "memory");
        string pids = DirectoryOf(group, "pids");
        return new CgroupStats(
            CgroupFiles.ReadLong(DirectoryOf(group, "cpuacct"), "cpuacct.usage"),
            CgroupFiles.ReadKey(cpu, "cpu.stat", "nr_periods"),
            CgroupFiles.ReadKey(cpu, "cpu.stat", "nr_throttled"),
            CgroupFiles.ReadKey(cpu, "cpu.stat", "throttled_time"),
            CgroupFiles.ReadLong(memory, "memory.usage_in_bytes"),
            CgroupFiles.ReadLong(memory, "memory.failcnt"),
            CgroupFiles.ReadKey(memory, "memory.oom_control", "oom_kill"),
            CgroupFiles.ReadLong(pids, "pids.current"),
            CgroupFiles.ReadKey(pids, "pids.events", "max"));
    }

    public IReadOnlyList<int> Pids(string group) =>
        [.. Directories(group).SelectMany(CgroupFiles.ReadPids).Distinct()];

    public IReadOnlyList<string> Children(string parent)
    {
        string directory = DirectoryOf(parent, "cpu");
        return Directory.Exists(directory) ? [.. Directory.GetDirectories(directory).Select(Path.GetFileName).OfType<string>()] : [];
    }

    public bool TryRemove(string group) => Directories(group).All(CgroupFiles.TryRemoveDirectory);
}
