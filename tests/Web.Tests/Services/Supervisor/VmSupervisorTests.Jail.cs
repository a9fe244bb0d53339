using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Data;
using Platform.Web.Services.Limits;
using Platform.Web.Services.Runtime;

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
