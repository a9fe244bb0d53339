using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Data;
using Platform.Web.Endpoints;
using Platform.Web.Hubs;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Supervisor;
using Platform.Web.Tests.Endpoints;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Services.Supervisor;

// The on-crash policy with real VMMs: what comes back after a crash, what gives up, and what a user's action decides.
public sealed partial class VmSupervisorTests
{
    /// <summary>Restarts 100 ms after a first crash (then 200, 400 ms), and the third crash within 10 minutes gives up.</summary>
    private static readonly Dictionary<string, string> FastRestarts = new()
    {
        ["CrashRestartDelay"] = "00:00:00.100", ["CrashRestartMaxDelay"] = "00:00:00.400",
        ["CrashRestartLimit"] = "3", ["CrashRestartWindow"] = "00:10:00",
    };

    /// <summary>A pause long enough for a test to act on a VM while its restart is due.</summary>
    private static Dictionary<string, string> SlowRestarts(string delay) => new(FastRestarts)
    {
        ["CrashRestartDelay"] = delay, ["CrashRestartMaxDelay"] = delay,
    };

    private static int? TryPidOf(SupervisedAppFactory app, Guid vmId)
    {
        try
        {
            return PidOf(app, vmId);
        }
        catch (Exception ex) when (ex is IOException or FormatException)
        {
            return null; // Between a VMM's end and the next one's pid file.
        }
    }

    /// <summary>Kills the VM's VMM with SIGKILL, a crash as far as anyone can tell; returns the pid it had.</summary>
    private static int Crash(SupervisedAppFactory app, Guid vmId)
    {
        int pid = PidOf(app, vmId);
        using var process = Process.GetProcessById(pid);
        process.Kill();
        return pid;
    }

    private static Task WaitForRestartAsync(SupervisedAppFactory app, IVmRuntime runtime, Guid vmId, int previousPid) =>
        WaitUntilAsync(() => runtime.GetState(vmId) == VmPowerState.Running && TryPidOf(app, vmId) is { } pid && pid != previousPid);

    private static async Task<List<string>> EventMessagesAsync(HttpClient client, Guid vmId)
    {
        var events = await client.GetFromJsonAsync<VmEventPageResponse>($"/api/v1/vms/{vmId}/events?take=100", ApiJson.Options, Token);
        return events!.Items.Select(e => e.Message).ToList();
    }

    /// <summary>Waits until the VM's event log has a message that <paramref name="match"/> accepts (the supervisor writes after it publishes).</summary>
    private static async Task<List<string>> WaitForEventAsync(HttpClient client, Guid vmId, Func<string, bool> match)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var messages = await EventMessagesAsync(client, vmId);
            if (messages.Any(match))
            {
                return messages;
            }

            clock.Elapsed.Should().BeLessThan(Timeout, $"the event log should get the message; it has: {string.Join(" | ", messages)}");
            await Task.Delay(50, Token);
        }
    }

    /// <summary>Types <paramref name="text"/> into the guest's serial console.</summary>
    private static async Task SendSerialAsync(IVmRuntimeInfo info, Guid vmId, string text)
    {
        string path = info.GetSocketPath(vmId, VmSocket.Serial) ?? throw new InvalidOperationException("no serial socket");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), Token);
        await socket.SendAsync(Encoding.ASCII.GetBytes(text), SocketFlags.None, Token);
    }

    /// <summary>Asserts the VM stays in <paramref name="state"/> for <paramref name="span"/>: longer than any restart pause of the test.</summary>
    private static async Task StaysAsync(IVmRuntime runtime, Guid vmId, VmPowerState state, TimeSpan span)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < span)
        {
            runtime.GetState(vmId).Should().Be(state, "nothing may start the VM again");
            await Task.Delay(50, Token);
        }
    }

    [Fact]
    public async Task With_on_crash_restart_a_killed_vmm_comes_back_and_the_hub_and_the_event_log_say_so()
    {
        var app = NewApp(FastRestarts);
        using var client = app.CreateClient();
        var runtime = app.Services.GetRequiredService<IVmRuntime>();
        var info = app.Services.GetRequiredService<IVmRuntimeInfo>();
        var vm = await CreateAsync(client, "phoenix", "echo", new { onCrash = "Restart" });
        vm.OnCrash.Should().Be(CrashPolicy.Restart);
        var (_, cookie) = await TestAccounts.SignInAsync(app, TestAccounts.AdminName, TestAccounts.AdminPassword);
        await using var hub = TestAccounts.VmHubConnection(app, cookie);
        var pushed = new ConcurrentQueue<VmStateChanged>();
        hub.On<VmStateChanged>("StateChanged", pushed.Enqueue);
        await hub.StartAsync(Token);
        await hub.InvokeAsync("WatchAll", Token);
        await PowerAsync(client, vm.Id, "start");
        await ReadSerialUntilAsync(info, vm.Id, "READY");
        pushed.Clear();

        int pid = Crash(app, vm.Id);

        await WaitForRestartAsync(app, runtime, vm.Id, pid);
        await ReadSerialUntilAsync(info, vm.Id, "READY");
        await WaitUntilAsync(() => pushed.Any(c => c.VmId == vm.Id && c.State == VmPowerState.Running));
        var states = pushed.Where(c => c.VmId == vm.Id).OrderBy(c => c.At).ToList(); // pushes may overtake each other
        states.Select(c => c.State).Should().ContainInOrder(VmPowerState.Restarting, VmPowerState.Starting, VmPowerState.Running);
        states.Should().NotContain(c => c.State == VmPowerState.Crashed, "a crash the policy restarts is Restarting, not Crashed");
        states.First(c => c.State == VmPowerState.Restarting).Reason.Should().Contain("signal 9").And.Contain("restarting in 100 ms");
        var messages = await WaitForEventAsync(client, vm.Id, m => m.StartsWith("Restarted phoenix after its crash", StringComparison.Ordinal));
        messages.Should().Contain(m => m.Contains("phoenix crashed: the VMM was killed by signal 9", StringComparison.Ordinal));
        messages.Should().Contain(m => m.StartsWith("Restarting phoenix in 100 ms", StringComparison.Ordinal));

        (await PowerAsync(client, vm.Id, "stop")).Should().Be(VmPowerState.Stopped);
    }

    [Fact]
    public async Task With_on_crash_stay_a_killed_vmm_stays_crashed()
    {
        var app = NewApp(FastRestarts);
        using var client = app.CreateClient();
        var runtime = app.Services.GetRequiredService<IVmRuntime>();
        var vm = await CreateAsync(client, "stays-down", "echo");
        vm.OnCrash.Should().Be(CrashPolicy.Stay, "stay is the default");
        await PowerAsync(client, vm.Id, "start");

        Crash(app, vm.Id);

        await WaitForStateAsync(runtime, vm.Id, VmPowerState.Crashed, TimeSpan.FromSeconds(5));
        await StaysAsync(runtime, vm.Id, VmPowerState.Crashed, TimeSpan.FromSeconds(1));
        TryPidOf(app, vm.Id).Should().BeNull("no VMM was started again");
        (await EventMessagesAsync(client, vm.Id)).Should().NotContain(m => m.Contains("Restart", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_vm_that_keeps_crashing_is_left_crashed_at_the_limit_with_the_reason()
    {
        var app = NewApp(FastRestarts);
        using var client = app.CreateClient();
        var runtime = app.Services.GetRequiredService<IVmRuntime>();
        var vm = await CreateAsync(client, "crashy", "echo", new { onCrash = "Restart" });
        await PowerAsync(client, vm.Id, "start");
        var changes = new ConcurrentQueue<VmStateChanged>();
        using var subscription = runtime.Subscribe(changes.Enqueue);

        for (int crash = 1; crash < 3; crash++)
        {
            int pid = Crash(app, vm.Id);
            await WaitForRestartAsync(app, runtime, vm.Id, pid);
        }

        Crash(app, vm.Id);

        await WaitUntilAsync(() => changes.Any(c => c.VmId == vm.Id && c.State == VmPowerState.Crashed));
        changes.Single(c => c.State == VmPowerState.Crashed).Reason.Should().Contain("signal 9").And.Contain("crashed 3 times within 10 min, so it was not restarted again");
        changes.Where(c => c.State == VmPowerState.Restarting).Select(c => c.Reason).Should()
            .SatisfyRespectively(first => first.Should().EndWith("restarting in 100 ms"), second => second.Should().EndWith("restarting in 200 ms"));
        await StaysAsync(runtime, vm.Id, VmPowerState.Crashed, TimeSpan.FromSeconds(1));
        await WaitForEventAsync(client, vm.Id, m => m.StartsWith("Gave up restarting crashy: it crashed 3 times within 10 min", StringComparison.Ordinal));

        // Started by hand, the VM has a fresh count: its next crash is restarted again.
        await PowerAsync(client, vm.Id, "start");
        int again = Crash(app, vm.Id);
        await WaitForRestartAsync(app, runtime, vm.Id, again);
        await PowerAsync(client, vm.Id, "stop");
    }

    [Fact]
    public async Task Restarts_that_fail_count_as_crashes_and_give_up_at_the_limit()
    {
        var app = NewApp(FastRestarts);
        using var client = app.CreateClient();
        var runtime = app.Services.GetRequiredService<IVmRuntime>();
        string kernel = Path.Combine(_dataDirectory, "echo-copy.elf");
        File.Copy(SupervisedAppFactory.TestGuest("echo"), kernel);
        var vm = await CreateAsync(client, "no-kernel", "echo", new { kernelPath = kernel, onCrash = "Restart" });
        await PowerAsync(client, vm.Id, "start");
        File.Delete(kernel);

        Crash(app, vm.Id);

        await WaitForStateAsync(runtime, vm.Id, VmPowerState.Crashed, Timeout);
        var messages = await WaitForEventAsync(client, vm.Id, m => m.StartsWith("Gave up restarting no-kernel: it crashed 3 times", StringComparison.Ordinal));
        messages.Should().Contain(m => m.Contains("crashed: the restart failed: The kernel file", StringComparison.Ordinal) && m.Contains("does not exist", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_stop_or_shutdown_from_a_user_is_never_undone_and_cancels_a_restart_that_is_due()
    {
        var app = NewApp(SlowRestarts("00:00:01.500"));
        using var client = app.CreateClient();
        var runtime = app.Services.GetRequiredService<IVmRuntime>();
        var info = app.Services.GetRequiredService<IVmRuntimeInfo>();
        var vm = await CreateAsync(client, "obedient", "echo", new { onCrash = "Restart" });

        await PowerAsync(client, vm.Id, "start");
        (await PowerAsync(client, vm.Id, "stop")).Should().Be(VmPowerState.Stopped);
        await StaysAsync(runtime, vm.Id, VmPowerState.Stopped, TimeSpan.FromSeconds(2));

        // Stop while the restart is due: it is cancelled.
        await PowerAsync(client, vm.Id, "start");
        Crash(app, vm.Id);
        await WaitForStateAsync(runtime, vm.Id, VmPowerState.Restarting, TimeSpan.FromSeconds(5));
        (await PowerAsync(client, vm.Id, "stop")).Should().Be(VmPowerState.Stopped);
        await StaysAsync(runtime, vm.Id, VmPowerState.Stopped, TimeSpan.FromSeconds(2));
        TryPidOf(app, vm.Id).Should().BeNull();
        (await EventMessagesAsync(client, vm.Id)).Should().Contain("Cancelled the restart of obedient: it stays stopped.");

        // Start while the restart is due: it starts at once, and only once.
        await PowerAsync(client, vm.Id, "start");
        int pid = Crash(app, vm.Id);
        await WaitForStateAsync(runtime, vm.Id, VmPowerState.Restarting, TimeSpan.FromSeconds(5));
        (await PowerAsync(client, vm.Id, "start")).Should().Be(VmPowerState.Running);
        int started = PidOf(app, vm.Id);
        started.Should().NotBe(pid);
        await StaysAsync(runtime, vm.Id, VmPowerState.Running, TimeSpan.FromSeconds(2));
        PidOf(app, vm.Id).Should().Be(started, "the cancelled restart started nothing more");
        await ReadSerialUntilAsync(info, vm.Id, "READY");

        // A guest that answers Shut down by rebooting is ended, and stays so.
        var kbd = await CreateAsync(client, "obedient-kbd", "kbd", new { onCrash = "Restart" });
        await PowerAsync(client, kbd.Id, "start");
        await ReadSerialUntilAsync(info, kbd.Id, "READY");
        (await PowerAsync(client, kbd.Id, "shutdown")).Should().Be(VmPowerState.Stopped);
        await StaysAsync(runtime, kbd.Id, VmPowerState.Stopped, TimeSpan.FromSeconds(2));
        await PowerAsync(client, vm.Id, "stop");
    }

    [Fact]
    public async Task A_guest_that_ends_itself_is_not_a_crash_even_with_on_crash_restart()
    {
        var app = NewApp(FastRestarts);
        using var client = app.CreateClient();
        var runtime = app.Services.GetRequiredService<IVmRuntime>();
        var info = app.Services.GetRequiredService<IVmRuntimeInfo>();
        // The test guests end by resetting; with on-reboot exit that is their power-off: the VMM says SHUTDOWN.
        var vm = await CreateAsync(client, "quits", "echo", new { onCrash = "Restart", onReboot = "Exit" });
        await PowerAsync(client, vm.Id, "start");
        await ReadSerialUntilAsync(info, vm.Id, "READY");

        await SendSerialAsync(info, vm.Id, "q");

        await WaitForStateAsync(runtime, vm.Id, VmPowerState.Stopped, Timeout);
        await StaysAsync(runtime, vm.Id, VmPowerState.Stopped, TimeSpan.FromSeconds(1));
        (await WaitForEventAsync(client, vm.Id, m => m.Contains("on-reboot policy is exit", StringComparison.Ordinal)))
            .Should().NotContain(m => m.Contains("crashed", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Stay")]
    [InlineData("Restart")]
    public async Task A_guest_panic_is_a_crash_and_the_policy_decides_what_follows(string onCrash)
    {
        var app = NewApp(FastRestarts);
        using var client = app.CreateClient();
        var runtime = app.Services.GetRequiredService<IVmRuntime>();
        var info = app.Services.GetRequiredService<IVmRuntimeInfo>();
        var vm = await CreateAsync(client, "panics", "echo", new { onCrash, commandLine = "end=fatal" });
        await PowerAsync(client, vm.Id, "start");
        await ReadSerialUntilAsync(info, vm.Id, "READY");
        int pid = PidOf(app, vm.Id);
        var changes = new ConcurrentQueue<VmStateChanged>();
        using var subscription = runtime.Subscribe(changes.Enqueue);

        await SendSerialAsync(info, vm.Id, "q"); // The guest finishes, then jumps where KVM cannot follow: GUEST_PANICKED.

        await WaitUntilAsync(() => changes.Any(c => c.State is VmPowerState.Crashed or VmPowerState.Restarting));
        var crash = changes.First(c => c.State is VmPowerState.Crashed or VmPowerState.Restarting);
        crash.Reason.Should().Contain("the guest died").And.Contain("emulation failure");
        if (onCrash == "Restart")
        {
            crash.State.Should().Be(VmPowerState.Restarting);
            await WaitForRestartAsync(app, runtime, vm.Id, pid);
            await ReadSerialUntilAsync(info, vm.Id, "READY");
            await PowerAsync(client, vm.Id, "stop");
        }
        else
        {
            crash.State.Should().Be(VmPowerState.Crashed);
            await StaysAsync(runtime, vm.Id, VmPowerState.Crashed, TimeSpan.FromSeconds(1));
        }
    }

    [Fact]
    public async Task A_restarted_dashboard_takes_over_a_due_restart_and_restarts_a_reattached_vm()
    {
        // The first dashboard stops while a restart is due (5 s, longer than it takes to stop).
        var first = NewApp(SlowRestarts("00:00:05"));
        Guid vmId;
        using (var client = first.CreateClient())
        {
            vmId = (await CreateAsync(client, "handover", "echo", new { onCrash = "Restart" })).Id;
            await PowerAsync(client, vmId, "start");
        }

        var firstRuntime = first.Services.GetRequiredService<IVmRuntime>();
        int pid = Crash(first, vmId);
        await WaitForStateAsync(firstRuntime, vmId, VmPowerState.Restarting, TimeSpan.FromSeconds(5));
        await first.DisposeAsync();
        string directory = Path.Combine(_dataDirectory, "run", vmId.ToString("N"));
        File.Exists(Path.Combine(directory, CrashRestarts.PendingFileName)).Should().BeTrue("the due restart is recorded for the next dashboard");
        TryPidOf(first, vmId).Should().BeNull("the stopping dashboard started nothing");

        var second = NewApp(FastRestarts);
        var runtime = second.Services.GetRequiredService<IVmRuntime>();
        await WaitForRestartAsync(second, runtime, vmId, pid);
        await WaitUntilAsync(() => !File.Exists(Path.Combine(directory, CrashRestarts.PendingFileName))); // done, so no longer due
        int secondPid = PidOf(second, vmId);
        await second.DisposeAsync();
        File.Exists($"/proc/{secondPid}/stat").Should().BeTrue("disposing the dashboard must not stop the guest");

        // A third dashboard reattaches to that VMM and applies the policy to it as to its own.
        var third = NewApp(FastRestarts);
        using var thirdClient = third.CreateClient();
        var thirdRuntime = third.Services.GetRequiredService<IVmRuntime>();
        thirdRuntime.GetState(vmId).Should().Be(VmPowerState.Running);
        Crash(third, vmId).Should().Be(secondPid);
        await WaitForRestartAsync(third, thirdRuntime, vmId, secondPid);
        await WaitForEventAsync(thirdClient, vmId, m => m.StartsWith("Restarting handover in", StringComparison.Ordinal) && m.Contains("was due when the dashboard stopped", StringComparison.Ordinal));
        await PowerAsync(thirdClient, vmId, "stop");
    }
}
