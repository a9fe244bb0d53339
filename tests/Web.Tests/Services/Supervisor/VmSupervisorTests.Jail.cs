using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Data;
using Platform.Web.Services.Limits;
using Platform.Web.Services.Runtime;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Services.Supervisor;

// The dashboard, as root, starts each VMM jailed as its VM's uid from Platform:Supervisor:Jail, and reports a VMM its
// seccomp filter killed.
public sealed partial class VmSupervisorTests
{
    private static Dictionary<string, string> Status(int pid) => File.ReadAllLines($"/proc/{pid}/status")
        .Select(line => line.Split(':', 2))
        .Where(parts => parts.Length == 2)
        .ToDictionary(parts => parts[0], parts => parts[1].Trim());

    [Fact]
    public async Task A_vm_runs_jailed_as_the_uid_its_settings_give_and_its_consoles_and_controls_still_work()
    {
        Environment.IsPrivilegedProcess.Should().BeTrue("the dashboard runs as root here and in CI");
        var app = NewApp(new Dictionary<string, string> { ["Jail:UidBase"] = "310000", ["Jail:UidCount"] = "1" });
        using var client = app.CreateClient();
        var info = app.Services.GetRequiredService<IVmRuntimeInfo>();
        var vm = await CreateAsync(client, "jailed-vm", "echo");

        (await PowerAsync(client, vm.Id, "start")).Should().Be(VmPowerState.Running);
        (await ReadSerialUntilAsync(info, vm.Id, "READY")).Should().Contain("PLATFORM-TEST echo START");
        int pid = PidOf(app, vm.Id);
        var status = Status(pid);
        status["Uid"].Split('\t').Should().AllBe("310000");
        status["Gid"].Split('\t').Should().AllBe("310000");
        status["CapEff"].Should().Be("0000000000000000");
        status["Seccomp"].Should().Be("2");
        status["NoNewPrivs"].Should().Be("1");
        (await info.GetStatsAsync(vm.Id, Token))!.Vcpus.Should().ContainSingle().Which.Exits.Should().BePositive();

        (await PowerAsync(client, vm.Id, "pause")).Should().Be(VmPowerState.Paused);
        (await PowerAsync(client, vm.Id, "resume")).Should().Be(VmPowerState.Running);
        (await PowerAsync(client, vm.Id, "stop")).Should().Be(VmPowerState.Stopped);
        VmmIsGone(pid).Should().BeTrue();
    }

    [Fact]
    public async Task A_vmm_killed_by_SIGSYS_is_reported_as_a_seccomp_kill()
    {
        // The real path: the jailed VMM's self-test hook calls ptrace two seconds after the VM came up, on a thread of
        // its own as a compromised device model would; the kernel kills the VMM (SECCOMP_RET_KILL_PROCESS), its keeper
        // finds the syscall in the kernel's audit line, and the supervisor reports the crash with it.
        var app = NewApp(new Dictionary<string, string> { ["VmmEnvironment:PLATFORM_VMM_JAIL_SELFTEST"] = "ptrace,delay=2000" });
        using var client = app.CreateClient();
        var runtime = app.Services.GetRequiredService<IVmRuntime>();
        var vm = await CreateAsync(client, "sigsys", "echo");
        var changes = new ConcurrentQueue<VmStateChanged>();
        using var subscription = runtime.Subscribe(changes.Enqueue);
        (await PowerAsync(client, vm.Id, "start")).Should().Be(VmPowerState.Running);
        int pid = PidOf(app, vm.Id);
        Status(pid)["Seccomp"].Should().Be("2");

        await WaitForStateAsync(runtime, vm.Id, VmPowerState.Crashed, Timeout);
        var crash = changes.Should().Contain(c => c.State == VmPowerState.Crashed).Which;
        crash.Reason.Should().Contain("killed by SIGSYS (signal 31)").And.Contain("was killed by seccomp (SIGSYS)")
            .And.Contain("it called ptrace (syscall 101)");
        VmmIsGone(pid).Should().BeTrue();
    }

    [Fact]
    public async Task A_jailed_vmm_its_keeper_and_its_passt_all_run_in_the_vms_cgroup()
    {
        var app = NewApp();
        using var client = app.CreateClient();
        var cgroups = app.Services.GetRequiredService<VmCgroups>();
        cgroups.Driver.Should().NotBeNull(cgroups.Status);
        var vm = await CreateAsync(client, "jailed-limits", "echo", new { pidsLimit = 200, nics = new[] { new { networkId = Network.DefaultId } } });

        (await PowerAsync(client, vm.Id, "start")).Should().Be(VmPowerState.Running);
        int vmm = PidOf(app, vm.Id);
        Status(vmm)["Seccomp"].Should().Be("2", "the VMM that runs the guest is the jailed one");
        int keeper = int.Parse(Status(vmm)["PPid"], CultureInfo.InvariantCulture);
        int passt = ChildrenOf(vmm).Should().ContainSingle(p => Comm(p).StartsWith("passt", StringComparison.Ordinal), "the NIC's passt is the VMM's child").Which;
        string group = cgroups.GroupOf(vm.Id);
        foreach (var (what, pid) in new[] { ("the VMM", vmm), ("its keeper", keeper), ("its passt", passt) })
        {
            // /proc/PID/cgroup: "ID:CONTROLLERS:PATH" per v1 hierarchy, "0::PATH" on v2.
            var lines = File.ReadAllLines($"/proc/{pid}/cgroup").Select(l => l.Split(':', 3)).ToArray();
            foreach (string controller in new[] { "memory", "cpu", "pids" })
            {
                var line = lines.FirstOrDefault(l => cgroups.Driver!.Version == "v2" ? l[0] == "0" : l[1].Split(',').Contains(controller));
                line.Should().NotBeNull($"{what} has a {controller} cgroup");
                line![2].Should().EndWith("/" + group, $"{what} (pid {pid}) is in the VM's {controller} cgroup");
            }

            cgroups.Driver!.Pids(group).Should().Contain(pid);
        }

        (await PowerAsync(client, vm.Id, "stop")).Should().Be(VmPowerState.Stopped);
    }

    [Fact]
    public async Task A_writable_disk_given_to_the_jailed_vm_goes_back_to_its_owner_when_the_vmm_ends()
    {
        var app = NewApp(new Dictionary<string, string> { ["Jail:UidBase"] = "312000", ["Jail:UidCount"] = "1" });
        using var client = app.CreateClient();
        string image = Path.Combine(_dataDirectory, "owned.img");
        await File.WriteAllBytesAsync(image, new byte[1 << 20], Token);
        Chown(image, 4242, 4343);
        var vm = await CreateAsync(client, "given-back", "echo", new { disks = new[] { new { path = image } } });

        (await PowerAsync(client, vm.Id, "start")).Should().Be(VmPowerState.Running);
        Owner(image).Should().Be((312000u, 312000u), "the jail gives the VM's uid its writable disk");
        string ledger = Path.Combine(app.DataDirectory, "disk-owners", vm.Id.ToString("N") + ".json");
        QemuTools.Run("stat", "-c", "%a %u", ledger).Output.Trim().Should().Be("600 0", "the VM's uid must not rewrite what it is given back as");

        (await PowerAsync(client, vm.Id, "stop")).Should().Be(VmPowerState.Stopped);
        await WaitUntilAsync(() => Owner(image) == (4242u, 4343u), "the disk goes back to its owner when the VMM ends");
        File.Exists(ledger).Should().BeFalse();

        // Each start gives it again; each end gives it back.
        (await PowerAsync(client, vm.Id, "start")).Should().Be(VmPowerState.Running);
        Owner(image).Should().Be((312000u, 312000u));
        (await PowerAsync(client, vm.Id, "stop")).Should().Be(VmPowerState.Stopped);
        await WaitUntilAsync(() => Owner(image) == (4242u, 4343u), "the disk goes back again");
    }

    [Fact]
    public async Task A_disk_whose_name_was_swapped_while_the_vm_ran_is_not_given_away_at_its_end()
    {
        var app = NewApp(new Dictionary<string, string> { ["Jail:UidBase"] = "312100", ["Jail:UidCount"] = "1" });
        using var client = app.CreateClient();
        string image = Path.Combine(_dataDirectory, "swapped.img");
        await File.WriteAllBytesAsync(image, new byte[1 << 20], Token);
        Chown(image, 4242, 4343);
        var vm = await CreateAsync(client, "swapped", "echo", new { disks = new[] { new { path = image } } });
        (await PowerAsync(client, vm.Id, "start")).Should().Be(VmPowerState.Running);

        // Another file of the VM's uid now holds the name: it is not the file that was given, so it is not "given back".
        File.Move(image, image + ".old");
        await File.WriteAllBytesAsync(image, new byte[4096], Token);
        Chown(image, 312100, 312100);
        (await PowerAsync(client, vm.Id, "stop")).Should().Be(VmPowerState.Stopped);
        string ledger = Path.Combine(app.DataDirectory, "disk-owners", vm.Id.ToString("N") + ".json");
        await WaitUntilAsync(() => !File.Exists(ledger), "the end was handled");

        Owner(image).Should().Be((312100u, 312100u), "the file now at the name is not the disk the VM was given");
    }

    private static void Chown(string path, int uid, int gid) =>
        QemuTools.Run("chown", $"{uid}:{gid}", path).ExitCode.Should().Be(0);

    private static (uint Uid, uint Gid) Owner(string path)
    {
        var lines = QemuTools.Run("stat", "-c", "%u %g", path).Output.Trim().Split(' ');
        return (uint.Parse(lines[0], CultureInfo.InvariantCulture), uint.Parse(lines[1], CultureInfo.InvariantCulture));
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string because)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, Token);
        }

        condition().Should().BeTrue(because);
    }

    private static string Comm(int pid) => File.ReadAllText($"/proc/{pid}/comm").Trim();

    /// <summary>Every process whose parent is <paramref name="pid"/> (whichever of its threads started it).</summary>
    private static int[] ChildrenOf(int pid) => Directory.EnumerateDirectories("/proc")
        .Select(Path.GetFileName)
        .Where(name => name!.All(char.IsAsciiDigit))
        .Select(name => int.Parse(name!, CultureInfo.InvariantCulture))
        .Where(p =>
        {
            try
            {
                string stat = File.ReadAllText($"/proc/{p}/stat");
                return stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1] == pid.ToString(CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                return false;
            }
        })
        .ToArray();

    private static bool VmmIsGone(int pid) => !Directory.Exists($"/proc/{pid}") || File.ReadAllText($"/proc/{pid}/stat").Contains(") Z", StringComparison.Ordinal);
}
