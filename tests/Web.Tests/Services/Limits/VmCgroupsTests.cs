using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Web.Data;
using Platform.Web.Services.Limits;

namespace Platform.Web.Tests.Services.Limits;

// VM cgroups on this host's real cgroup file system (root, as the TAP tests): made with the VM's limits, joined,
// rewritten live, removed once empty, and left by a crashed dashboard: adopted with a task in them, removed without.
public sealed class VmCgroupsTests : IDisposable
{
    private readonly string _runtimeRoot = Directory.CreateTempSubdirectory("cg-run-").FullName;
    private readonly List<Process> _processes = [];
    private readonly List<string> _files = [];

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            process.Kill();
            process.WaitForExit();
            process.Dispose();
        }

        foreach (string file in _files)
        {
            File.Delete(file);
        }

        var cgroups = New();
        foreach (string child in cgroups.Driver?.Children(cgroups.Parent) ?? [])
        {
            cgroups.Driver!.TryRemove($"{cgroups.Parent}/{child}");
        }

        cgroups.Driver?.TryRemove(cgroups.Parent);
        Directory.Delete(_runtimeRoot, recursive: true);
    }

    private VmCgroups New() => new(new LimitsOptions(), _runtimeRoot, NullLogger<VmCgroups>.Instance);

    private Process Sleeper()
    {
        var process = Process.Start("sleep", "60");
        _processes.Add(process);
        return process;
    }

    private static void Join(IReadOnlyList<string> procsFiles, int pid)
    {
        foreach (string file in procsFiles)
        {
            File.WriteAllText(file, pid.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static VirtualMachine Vm(double? cpuLimit = 1.5, int units = 200, int? pids = 100) =>
        new() { Name = "cg", MemoryMiB = 256, VcpuCount = 2, CpuLimit = cpuLimit, CpuUnits = units, PidsLimit = pids };

    [Fact]
    public async Task A_group_carries_the_limits_counts_its_tasks_takes_live_changes_and_goes_once_empty()
    {
        var cgroups = New();
        cgroups.Driver.Should().NotBeNull(cgroups.Status);
        var vm = Vm();
        var procs = cgroups.Prepare(vm);
        var sleeper = Sleeper();
        Join(procs, sleeper.Id);

        var driver = cgroups.Driver!;
        string group = cgroups.GroupOf(vm.Id);
        driver.Pids(group).Should().Equal(sleeper.Id);
        var stats = cgroups.Stats(vm.Id)!;
        stats.Pids.Should().Be(1);
        if (driver.Version == "v1")
        {
            File.ReadAllText(Path.Combine(driver.DirectoryOf(group, "memory"), "memory.limit_in_bytes")).Trim().Should().Be(((256L + 128) << 20).ToString(CultureInfo.InvariantCulture));
            File.ReadAllText(Path.Combine(driver.DirectoryOf(group, "cpu"), "cpu.cfs_quota_us")).Trim().Should().Be("150000");
            File.ReadAllText(Path.Combine(driver.DirectoryOf(group, "cpu"), "cpu.shares")).Trim().Should().Be("2048");
            File.ReadAllText(Path.Combine(driver.DirectoryOf(group, "pids"), "pids.max")).Trim().Should().Be("100");
        }

        cgroups.Update(Vm(cpuLimit: 0.5, units: 100, pids: null)).Should().BeFalse("another VM's id has no group");
        vm.CpuLimit = 0.5;
        vm.PidsLimit = null;
        cgroups.Update(vm).Should().BeTrue();
        if (driver.Version == "v1")
        {
            File.ReadAllText(Path.Combine(driver.DirectoryOf(group, "cpu"), "cpu.cfs_quota_us")).Trim().Should().Be("50000");
            File.ReadAllText(Path.Combine(driver.DirectoryOf(group, "pids"), "pids.max")).Trim().Should().Be("max");
        }

        driver.TryRemove(group).Should().BeFalse("a task is still in it");
        sleeper.Kill();
        await sleeper.WaitForExitAsync(TestContext.Current.CancellationToken);
        await cgroups.RemoveAsync(vm.Id);
        Directory.Exists(driver.DirectoryOf(group, "memory")).Should().BeFalse();
        Directory.Exists(driver.DirectoryOf(group, "cpu")).Should().BeFalse();
    }

    [Fact]
    public async Task Memory_is_charged_to_the_group_and_a_limit_below_it_is_refused_with_the_file_named()
    {
        var cgroups = New();
        var vm = Vm();
        // A task that, once in the group, fills 32 MiB of tmpfs: shared memory the kernel can neither reclaim nor swap
        // here, charged to the group for as long as the file exists.
        string file = $"/dev/shm/cgroup-test-{Guid.NewGuid():N}";
        _files.Add(file);
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardInput = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"read go; head -c 33554432 /dev/zero > {file}; exec sleep 60");
        var writer = Process.Start(start)!;
        _processes.Add(writer);
        Join(cgroups.Prepare(vm), writer.Id);
        await writer.StandardInput.WriteLineAsync("go");
        var clock = Stopwatch.StartNew();
        while (!File.Exists(file) || new FileInfo(file).Length < 32 << 20)
        {
            clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(20));
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        cgroups.Stats(vm.Id)!.MemoryBytes.Should().BeGreaterThanOrEqualTo(32 << 20, "what the group's task wrote is charged to the group");
        // 4 KiB cannot be met: v1 refuses the limit (EBUSY) rather than kill (v2 would reclaim, then OOM-kill).
        if (cgroups.Driver!.Version == "v1")
        {
            var act = () => cgroups.Driver!.Apply(cgroups.GroupOf(vm.Id), new VmResourceLimits(4096, null, 100, null));
            act.Should().Throw<IOException>().WithMessage("*memory.limit_in_bytes*");
        }
    }

    [Fact]
    public void Groups_left_by_a_crashed_dashboard_are_adopted_with_a_task_in_them_and_removed_without()
    {
        var first = New();
        var live = Vm();
        var dead = Vm();
        Join(first.Prepare(live), Sleeper().Id);
        first.Prepare(dead);

        // The dashboard "crashes" here; the next one starts on the same runtime root.
        var second = New();
        second.Parent.Should().Be(first.Parent, "the groups are found by the runtime root's hash");
        second.Driver!.Pids(second.GroupOf(live.Id)).Should().ContainSingle("the live VMM's group is adopted as it is");
        Directory.Exists(second.Driver.DirectoryOf(second.GroupOf(dead.Id), "cpu")).Should().BeFalse("an empty group is stale");
        var other = new VmCgroups(new LimitsOptions(), _runtimeRoot + "-other", NullLogger<VmCgroups>.Instance);
        other.Parent.Should().NotBe(first.Parent, "another dashboard never sweeps this one's groups");
        other.Driver?.TryRemove(other.Parent);
    }

    [Fact]
    public void Turned_off_there_are_no_groups_and_the_status_says_so()
    {
        var cgroups = new VmCgroups(new LimitsOptions { Enabled = false }, _runtimeRoot, NullLogger<VmCgroups>.Instance);
        cgroups.Driver.Should().BeNull();
        cgroups.Status.Should().Contain("Platform:Limits:Enabled");
        cgroups.Prepare(Vm()).Should().BeEmpty();
    }
}
