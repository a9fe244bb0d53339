using Platform.Web.Services.Limits;

namespace Platform.Web.Tests.Services.Limits;

// cgroup v2's files, written into a folder laid out as the kernel lays one out (this host's v2 tree has no controllers
// to write to): the values each limit becomes, and what is read back for the Summary tab.
public sealed class CgroupV2DriverTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("cg2-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Limits_become_memory_max_cpu_max_cpu_weight_and_pids_max_and_none_is_max()
    {
        File.WriteAllText(Path.Combine(_root, "cgroup.subtree_control"), "");
        var driver = new CgroupV2Driver(_root);
        driver.Create("platform-x/vm-1");
        File.ReadAllText(Path.Combine(_root, "cgroup.subtree_control")).Should().Be("+memory +cpu +pids", "the parent hands the controllers down");

        driver.Apply("platform-x/vm-1", new VmResourceLimits(192L << 20, 1.5, 250, 128));
        string group = Path.Combine(_root, "platform-x", "vm-1");
        File.ReadAllText(Path.Combine(group, "memory.max")).Should().Be("201326592");
        File.ReadAllText(Path.Combine(group, "cpu.max")).Should().Be("150000 100000");
        File.ReadAllText(Path.Combine(group, "cpu.weight")).Should().Be("250");
        File.ReadAllText(Path.Combine(group, "pids.max")).Should().Be("128");

        driver.Apply("platform-x/vm-1", new VmResourceLimits(192L << 20, null, 100, null));
        File.ReadAllText(Path.Combine(group, "cpu.max")).Should().Be("max 100000");
        File.ReadAllText(Path.Combine(group, "pids.max")).Should().Be("max");
        driver.ProcsFiles("platform-x/vm-1").Should().Equal(Path.Combine(group, "cgroup.procs"));
    }

    [Fact]
    public void Counters_are_read_from_cpu_stat_memory_events_and_pids_events()
    {
        string group = Directory.CreateDirectory(Path.Combine(_root, "g")).FullName;
        File.WriteAllText(Path.Combine(group, "cpu.stat"), "usage_usec 5000\nuser_usec 4000\nsystem_usec 1000\nnr_periods 40\nnr_throttled 12\nthrottled_usec 900\n");
        File.WriteAllText(Path.Combine(group, "memory.current"), "1048576\n");
        File.WriteAllText(Path.Combine(group, "memory.events"), "low 0\nhigh 0\nmax 7\noom 1\noom_kill 1\n");
        File.WriteAllText(Path.Combine(group, "pids.current"), "23\n");
        File.WriteAllText(Path.Combine(group, "pids.events"), "max 2\n");
        new CgroupV2Driver(_root).ReadStats("g").Should().Be(new CgroupStats(5_000_000, 40, 12, 900_000, 1 << 20, 7, 1, 23, 2));
    }

    [Fact]
    public void A_parent_that_refuses_the_controllers_says_why_delegation_is_needed()
    {
        // A directory where the file should be: the write fails as the kernel's EBUSY would.
        Directory.CreateDirectory(Path.Combine(_root, "cgroup.subtree_control"));
        var act = () => new CgroupV2Driver(_root).Create("platform-x");
        act.Should().Throw<IOException>().WithMessage("*Delegate=yes*");
    }

    [Fact]
    public void Cpu_limits_and_weights_map_to_quotas_and_v1_shares()
    {
        new VmResourceLimits(0, 0.25, 100, null).CpuQuotaMicroseconds.Should().Be(25_000);
        new VmResourceLimits(0, null, 100, null).CpuQuotaMicroseconds.Should().BeNull();
        new VmResourceLimits(0, null, 100, null).CpuShares.Should().Be(1024, "v1's default share is v2's default weight");
        new VmResourceLimits(0, null, 10000, null).CpuShares.Should().Be(102_400);
        new VmResourceLimits(0, null, 1, null).CpuShares.Should().Be(10);
    }
}
