using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
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
        var app = NewApp();
        using var client = app.CreateClient();
        var runtime = app.Services.GetRequiredService<IVmRuntime>();
        var vm = await CreateAsync(client, "sigsys", "echo");
        await PowerAsync(client, vm.Id, "start");
        var changes = new ConcurrentQueue<VmStateChanged>();
        using var subscription = runtime.Subscribe(changes.Enqueue);

        // What the kernel does to a VMM whose filter catches a call (here sent by hand: no audit line names a syscall).
        Process.Start("kill", ["-SYS", PidOf(app, vm.Id).ToString(CultureInfo.InvariantCulture)]).WaitForExit();

        await WaitForStateAsync(runtime, vm.Id, VmPowerState.Crashed, Timeout);
        changes.Should().Contain(c => c.State == VmPowerState.Crashed && c.Reason!.Contains("killed by SIGSYS (signal 31)", StringComparison.Ordinal)
            && c.Reason.Contains("was killed by seccomp (SIGSYS)", StringComparison.Ordinal));
    }

    private static bool VmmIsGone(int pid) => !Directory.Exists($"/proc/{pid}") || File.ReadAllText($"/proc/{pid}/stat").Contains(") Z", StringComparison.Ordinal);
}
