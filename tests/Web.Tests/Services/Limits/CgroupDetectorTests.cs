using Platform.Web.Services.Limits;

namespace Platform.Web.Tests.Services.Limits;

public sealed class CgroupDetectorTests
{
    // This project's build host: v1 controllers each on its own mount, an empty v2 tree beside them.
    private const string HybridMounts = """
        30 25 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec - tmpfs tmpfs ro,mode=755
        31 30 0:27 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
        32 30 0:28 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
        33 30 0:29 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        34 30 0:30 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
        35 30 0:31 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
        """;

    private const string HybridGroups = """
        8:pids:/
        4:memory:/process_api/c3d4
        2:cpuacct:/
        1:cpu:/
        0::/
        """;

    [Fact]
    public void V1_is_chosen_where_its_controllers_are_and_each_is_found_under_the_process_own_group()
    {
        var driver = CgroupDetector.Detect(HybridMounts, HybridGroups, _ => "", out string reason);
        driver.Should().BeOfType<CgroupV1Driver>();
        reason.Should().StartWith("cgroup v1");
        driver!.DirectoryOf("platform-x/vm-1", "memory").Should().Be("/sys/fs/cgroup/memory/process_api/c3d4/platform-x/vm-1");
        driver.DirectoryOf("platform-x/vm-1", "cpu").Should().Be("/sys/fs/cgroup/cpu/platform-x/vm-1");
        driver.ProcsFiles("g").Should().HaveCount(4, "the VMM joins each hierarchy");
    }

    [Fact]
    public void Co_mounted_controllers_are_one_hierarchy_joined_once()
    {
        const string Mounts = """
            31 30 0:27 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
            33 30 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
            34 30 0:30 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
            """;
        var driver = CgroupDetector.Detect(Mounts, "3:cpu,cpuacct:/a\n2:memory:/a\n1:pids:/a\n", _ => "", out _);
        driver!.DirectoryOf("g", "cpuacct").Should().Be(driver.DirectoryOf("g", "cpu"));
        driver.ProcsFiles("g").Should().HaveCount(3);
    }

    [Fact]
    public void A_container_sees_its_subtree_so_the_mount_root_is_taken_off_the_group_path()
    {
        const string Mounts = "40 30 0:40 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw";
        var driver = CgroupDetector.Detect(Mounts, "0::/docker/abc/app\n", path => path == "/sys/fs/cgroup/app/cgroup.controllers" ? "cpuset cpu io memory pids" : "", out string reason);
        driver.Should().BeOfType<CgroupV2Driver>();
        reason.Should().StartWith("cgroup v2");
        driver!.DirectoryOf("platform-x/vm-1", "cpu").Should().Be("/sys/fs/cgroup/app/platform-x/vm-1");
    }

    [Fact]
    public void An_empty_v2_tree_without_v1_controllers_is_no_driver_and_says_what_is_missing()
    {
        const string Mounts = "35 30 0:31 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw";
        CgroupDetector.Detect(Mounts, "0::/\n", _ => "cpuset io", out string reason).Should().BeNull();
        reason.Should().Contain("memory").And.Contain("cpu").And.Contain("pids");
    }

    [Fact]
    public void No_cgroup_file_system_is_no_driver()
    {
        CgroupDetector.Detect("30 25 0:26 / / rw - ext4 /dev/vda rw", "", _ => "", out string reason).Should().BeNull();
        reason.Should().Be("no cgroup file system is mounted");
    }
}
