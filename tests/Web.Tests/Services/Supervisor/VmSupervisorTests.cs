using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Net.WebSockets;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Hubs;
using Platform.Web.Endpoints;
using Platform.Web.Security;
using Platform.Web.Services.Runtime;
using Platform.Web.Tests.Endpoints;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Services.Supervisor;

// The supervisor with real platform-vmm processes running test guests, driven through the REST API.
public sealed partial class VmSupervisorTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("pw-").FullName;
    private readonly List<SupervisedAppFactory> _apps = [];

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private SupervisedAppFactory NewApp(IReadOnlyDictionary<string, string>? supervisor = null)
    {
        var app = new SupervisedAppFactory(_dataDirectory, supervisor);
        _apps.Add(app);
        return app;
    }

    private static async Task<VmResponse> CreateAsync(HttpClient client, string name, string guest, object? extra = null)
    {
        var body = new Dictionary<string, object?>
        {
            ["name"] = name, ["kernelPath"] = SupervisedAppFactory.TestGuest(guest), ["memoryMiB"] = 64,
            ["commandLine"] = "", ["onReboot"] = "Restart",
        };
        if (extra is not null)
        {
            foreach (var property in extra.GetType().GetProperties())
            {
                body[property.Name] = property.GetValue(extra);
            }
        }

        var response = await client.PostAsJsonAsync("/api/v1/vms", body, ApiJson.Options, Token);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Token));
        return (await response.ReadAsync<VmResponse>())!;
    }

    private static async Task<VmPowerState> PowerAsync(HttpClient client, Guid id, string action)
    {
        var response = await client.PostAsync($"/api/v1/vms/{id}/{action}", null, Token);
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Token));
        return (await response.ReadAsync<VmPowerResponse>())!.State;
    }

    /// <summary>The serial output from the start until <paramref name="marker"/> has appeared <paramref name="times"/> times.</summary>
    private static async Task<string> ReadSerialUntilAsync(IVmRuntimeInfo info, Guid vmId, string marker, int times = 1)
    {
        string path = info.GetSocketPath(vmId, VmSocket.Serial) ?? throw new InvalidOperationException("no serial socket");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), Token);
        var text = new StringBuilder();
        byte[] buffer = new byte[4096];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(Timeout);
        while (CountOf(text.ToString(), marker) < times)
        {
            int read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            read.Should().BePositive();
            text.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return text.ToString();
    }

    private static int CountOf(string text, string marker)
    {
        int count = 0;
        for (int at = text.IndexOf(marker, StringComparison.Ordinal); at >= 0; at = text.IndexOf(marker, at + marker.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static async Task WaitForStateAsync(IVmRuntime runtime, Guid vmId, VmPowerState state, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (runtime.GetState(vmId) != state)
        {
            clock.Elapsed.Should().BeLessThan(within, $"the VM should become {state} (it is {runtime.GetState(vmId)})");
            await Task.Delay(20, Token);
        }
    }

    private static int PidOf(SupervisedAppFactory app, Guid vmId)
    {
        string directory = Path.Combine(app.DataDirectory, "run", vmId.ToString("N"));
        return int.Parse(File.ReadAllText(Path.Combine(directory, "vmm.pid")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task A_vm_starts_as_a_vmm_process_and_pauses_resumes_and_stops_through_the_api()
    {
        var app = NewApp();
        using var client = app.CreateClient();
        var info = app.Services.GetRequiredService<IVmRuntimeInfo>();
        var vm = await CreateAsync(client, "echo-vm", "echo");

        (await PowerAsync(client, vm.Id, "start")).Should().Be(VmPowerState.Running);
        (await ReadSerialUntilAsync(info, vm.Id, "READY")).Should().Contain("PLATFORM-TEST echo START");
        var stats = await info.GetStatsAsync(vm.Id, Token);
        stats!.Vcpus.Should().ContainSingle().Which.Exits.Should().BePositive();

        (await PowerAsync(client, vm.Id, "pause")).Should().Be(VmPowerState.Paused);
        (await PowerAsync(client, vm.Id, "resume")).Should().Be(VmPowerState.Running);
        var again = await client.PostAsync($"/api/v1/vms/{vm.Id}/start", null, Token);
        again.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await again.ReadJsonAsync()).GetProperty("detail").GetString().Should().Contain("already running");

        int pid = PidOf(app, vm.Id);
        (await PowerAsync(client, vm.Id, "stop")).Should().Be(VmPowerState.Stopped);
        File.Exists($"/proc/{pid}/stat").Should().BeFalse("the VMM process has ended");
        var events = await client.GetFromJsonAsync<VmEventPageResponse>($"/api/v1/vms/{vm.Id}/events", ApiJson.Options, Token);
        events!.Items.Select(e => e.Message).Should().Contain(m => m.Contains("stopped from the dashboard", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_kernel_the_vmm_cannot_boot_fails_to_start_with_the_vmm_s_own_reason()
    {
        var app = NewApp();
        using var client = app.CreateClient();
        string notAKernel = Path.Combine(_dataDirectory, "not-a-kernel");
        await File.WriteAllTextAsync(notAKernel, "hello", Token);
        var vm = await CreateAsync(client, "bad-kernel", "echo", new { kernelPath = notAKernel });

        var response = await client.PostAsync($"/api/v1/vms/{vm.Id}/start", null, Token);

        response.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await response.ReadJsonAsync()).GetProperty("detail").GetString().Should().Contain("exited at start (code 1)").And.Contain("too short to be a kernel");
        app.Services.GetRequiredService<IVmRuntime>().GetState(vm.Id).Should().Be(VmPowerState.Stopped);

        // The start's task failed, and its log carries the VMM's own lines from vmm.log, one per line.
        var failed = (await client.GetFromJsonAsync<TaskPageResponse>($"/api/v1/tasks?vmId={vm.Id}&status=Failed", ApiJson.Options, Token))!.Items.Single();
        failed.Action.Should().Be("vm.start");
        var task = await client.GetFromJsonAsync<TaskResponse>($"/api/v1/tasks/{failed.Id}", ApiJson.Options, Token);
        task!.Lines!.Select(l => l.Text).Should().Contain(l => l.StartsWith("vmm.log: ", StringComparison.Ordinal) && l.Contains("too short to be a kernel", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_vmm_killed_with_SIGKILL_shows_as_crashed_within_5_seconds()
    {
        var app = NewApp();
        using var client = app.CreateClient();
        var runtime = app.Services.GetRequiredService<IVmRuntime>();
        var vm = await CreateAsync(client, "doomed", "echo");
        await PowerAsync(client, vm.Id, "start");
        var changes = new ConcurrentQueue<VmStateChanged>();
        using var subscription = runtime.Subscribe(changes.Enqueue);

        Process.GetProcessById(PidOf(app, vm.Id)).Kill();

        var clock = Stopwatch.StartNew();
        while (!changes.Any(c => c.VmId == vm.Id && c.State == VmPowerState.Crashed))
        {
            clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5), "a killed VMM is reported as crashed within 5 s");
            await Task.Delay(20, Token);
        }

        changes.Single(c => c.State == VmPowerState.Crashed).Reason.Should().Contain("signal 9");
        runtime.GetState(vm.Id).Should().Be(VmPowerState.Crashed);
        var listed = await client.GetFromJsonAsync<VmResponse>($"/api/v1/vms/{vm.Id}", ApiJson.Options, Token);
        listed!.State.Should().Be(VmPowerState.Crashed);
        (await PowerAsync(client, vm.Id, "start")).Should().Be(VmPowerState.Running, "a crashed VM can be started again");
        await PowerAsync(client, vm.Id, "stop");
    }

    [Fact]
    public async Task A_restarted_dashboard_reattaches_to_a_vm_that_kept_running()
    {
        var first = NewApp();
        Guid vmId;
        int pid;
        using (var client = first.CreateClient())
        {
            vmId = (await CreateAsync(client, "survivor", "echo")).Id;
            await PowerAsync(client, vmId, "start");
            pid = PidOf(first, vmId);
        }

        await first.DisposeAsync();
        File.Exists($"/proc/{pid}/stat").Should().BeTrue("disposing the dashboard must not stop the guest");

        var second = NewApp();
        using var secondClient = second.CreateClient();
        var runtime = second.Services.GetRequiredService<IVmRuntime>();
        runtime.GetState(vmId).Should().Be(VmPowerState.Running);
        PidOf(second, vmId).Should().Be(pid);
        var info = second.Services.GetRequiredService<IVmRuntimeInfo>();
        await ReadSerialUntilAsync(info, vmId, "READY");

        Process.GetProcessById(pid).Kill();
        await WaitForStateAsync(runtime, vmId, VmPowerState.Crashed, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Shutdown_sends_ctrl_alt_del_and_a_guest_that_reboots_on_it_is_stopped()
    {
        var app = NewApp();
        using var client = app.CreateClient();
        var info = app.Services.GetRequiredService<IVmRuntimeInfo>();
        var vm = await CreateAsync(client, "kbd-vm", "kbd");
        await PowerAsync(client, vm.Id, "start");
        await ReadSerialUntilAsync(info, vm.Id, "READY");

        (await PowerAsync(client, vm.Id, "shutdown")).Should().Be(VmPowerState.Stopped);

        var events = await client.GetFromJsonAsync<VmEventPageResponse>($"/api/v1/vms/{vm.Id}/events", ApiJson.Options, Token);
        events!.Items.Select(e => e.Message).Should().Contain(m => m.Contains("the guest shut down", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Autostart_vms_start_with_the_dashboard()
    {
        var first = NewApp();
        Guid vmId;
        using (var client = first.CreateClient())
        {
            vmId = (await CreateAsync(client, "auto", "echo", new { autostart = true })).Id;
        }

        await first.DisposeAsync();
        var second = NewApp();
        _ = second.Services; // builds and starts the host
        var runtime = second.Services.GetRequiredService<IVmRuntime>();
        await WaitForStateAsync(runtime, vmId, VmPowerState.Running, Timeout);
        await runtime.StopAsync(vmId, Token);
        runtime.GetState(vmId).Should().Be(VmPowerState.Stopped);
    }

    [Fact]
    public async Task The_serial_bridge_carries_the_guest_console_both_ways()
    {
        var app = NewApp();
        using var client = app.CreateClient();
        var vm = await CreateAsync(client, "serial-bridge", "echo");
        await PowerAsync(client, vm.Id, "start");

        var (_, cookie) = await TestAccounts.SignInAsync(app, TestAccounts.AdminName, TestAccounts.AdminPassword);
        using var socket = await TestAccounts.ConsoleClient(app, cookie)
            .ConnectAsync(TestAccounts.ConsoleUri(app, await TestAccounts.AdminIdAsync(app.Services), vm.Id, ConsoleKind.Serial), Token);
        var received = new StringBuilder();
        await ReceiveUntilAsync(socket, received, "READY");
        await socket.SendAsync("hello bridge"u8.ToArray(), WebSocketMessageType.Binary, true, Token);
        await ReceiveUntilAsync(socket, received, "HELLO BRIDGE");

        await PowerAsync(client, vm.Id, "stop");
    }

    [Fact]
    public async Task The_hub_pushes_state_changes_to_watchers_and_stats_to_a_vm_s_watchers()
    {
        var app = NewApp();
        using var client = app.CreateClient();
        var vm = await CreateAsync(client, "hub-vm", "echo");
        var (_, cookie) = await TestAccounts.SignInAsync(app, TestAccounts.AdminName, TestAccounts.AdminPassword);
        await using var hub = TestAccounts.VmHubConnection(app, cookie);
        var states = new ConcurrentQueue<VmStateChanged>();
        var stats = new ConcurrentQueue<VmStatsSample>();
        hub.On<VmStateChanged>("StateChanged", states.Enqueue);
        hub.On<VmStatsSample>("Stats", stats.Enqueue);
        await hub.StartAsync(Token);
        await hub.InvokeAsync("WatchAll", Token);
        await hub.InvokeAsync("Watch", vm.Id, Token);

        await PowerAsync(client, vm.Id, "start");

        await WaitUntilAsync(() => states.Any(s => s.VmId == vm.Id && s.State == VmPowerState.Running));
        await WaitUntilAsync(() => stats.Any(s => s.VmId == vm.Id && s.Stats.Vcpus.Count == 1));
        await PowerAsync(client, vm.Id, "stop");
        await WaitUntilAsync(() => states.Any(s => s.VmId == vm.Id && s.State == VmPowerState.Stopped));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            clock.Elapsed.Should().BeLessThan(Timeout);
            await Task.Delay(20, Token);
        }
    }

    private static async Task ReceiveUntilAsync(WebSocket socket, StringBuilder received, string marker)
    {
        byte[] buffer = new byte[4096];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(Timeout);
        while (!received.ToString().Contains(marker, StringComparison.Ordinal))
        {
            var result = await socket.ReceiveAsync(buffer, timeout.Token);
            result.MessageType.Should().Be(WebSocketMessageType.Binary, $"the console should stay open until \"{marker}\"; got {received}");
            received.Append(Encoding.ASCII.GetString(buffer, 0, result.Count));
        }
    }

    public void Dispose()
    {
        foreach (var app in _apps)
        {
            app.Dispose();
        }

        // Stop any VMM a failed test left running, then remove the folder.
        string run = Path.Combine(_dataDirectory, "run");
        if (Directory.Exists(run))
        {
            foreach (string pidFile in Directory.GetFiles(run, "vmm.pid", SearchOption.AllDirectories))
            {
                try
                {
                    Process.GetProcessById(int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture)).Kill();
                }
                catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or FormatException or IOException)
                {
                    // Already gone.
                }
            }
        }

        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A VMM may still be removing its files; a leftover temp folder is harmless.
        }
    }
}
