using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Supervisor;

namespace Platform.Web.Tests.Services.Supervisor;

// A jailed VM owns its runtime folder, so a VMM its guest took over can leave links there for the dashboard (root) to
// follow. Here the test plays that VMM, as the VM's uid: every name the dashboard touches becomes a link to a canary
// file (or socket) outside, while the VM is stopped and while it runs; start, stop and delete go through the dashboard
// as usual, the canary stays exactly as it was, and each planted name the dashboard met is refused with a reason.
public sealed partial class VmSupervisorTests
{
    private const string HostileUid = "311000";
    private const string CanaryText = "a host file a hostile VMM wants root to write\n";

    /// <summary>What the dashboard reads, writes or removes in a runtime folder, and one jail root of a keeper long gone.</summary>
    private static readonly string[] DashboardNames =
    [
        "vm.json", "vm.json.tmp", "vmm.log", "vmm.pid", "vmm.pid.tmp", "control.sock", "serial.sock", "vnc.sock",
        "restart-pending", "restart-pending.tmp", ".jail-2147480000",
    ];

    [Fact]
    public async Task Links_a_hostile_vmm_plants_in_its_runtime_folder_never_lead_the_dashboard_to_a_host_file()
    {
        var app = NewApp(new Dictionary<string, string> { ["Jail:UidBase"] = HostileUid, ["Jail:UidCount"] = "1" });
        using var client = app.CreateClient();
        var info = app.Services.GetRequiredService<IVmRuntimeInfo>();
        var vm = await CreateAsync(client, "hostile-folder", "echo");
        string folder = Path.Combine(app.DataDirectory, "run", vm.Id.ToString("N"));
        string canary = Path.Combine(_dataDirectory, "canary");
        File.WriteAllText(canary, CanaryText);
        RunTool("chmod", "640", canary);
        var refusals = new ConcurrentQueue<(string Path, string Reason)>();
        void OnRefused(string path, string reason)
        {
            if (path.StartsWith(folder, StringComparison.Ordinal))
            {
                refusals.Enqueue((path, reason));
            }
        }

        RuntimeFolder.Refused += OnRefused;
        try
        {
            (await PowerAsync(client, vm.Id, "start")).Should().Be(VmPowerState.Running);
            RunTool("stat", "-c", "%u", folder).Trim().Should().Be(HostileUid, "the jail gave the folder to the VM's uid");
            (await PowerAsync(client, vm.Id, "stop")).Should().Be(VmPowerState.Stopped);

            // Stopped: every name becomes a link to the canary, owned by the VM's uid as if its VMM had made it.
            foreach (string name in DashboardNames)
            {
                PlantLink(Path.Combine(folder, name), canary);
            }

            (await PowerAsync(client, vm.Id, "start")).Should().Be(VmPowerState.Running, "the dashboard makes its files anew");
            (await ReadSerialUntilAsync(info, vm.Id, "READY")).Should().Contain("PLATFORM-TEST echo START");
            CanaryIsAsMade(canary);
            foreach (string name in new[] { "vm.json", "vmm.log", "vmm.pid", "vmm.pid.tmp", "control.sock", "serial.sock", "vnc.sock" })
            {
                refusals.Should().Contain(r => r.Path == Path.Combine(folder, name) && r.Reason.Contains("symbolic link", StringComparison.Ordinal),
                    $"the planted {name} was met at the start and must be refused with the reason ({string.Join("; ", refusals)})");
                new FileInfo(Path.Combine(folder, name)).LinkTarget.Should().BeNull($"{name} is no longer the planted link");
            }

            File.ReadAllText(Path.Combine(folder, "vmm.log")).Should().Contain($"refused {Path.Combine(folder, ".jail-2147480000")}",
                "the jail found a link in a stale jail root's place and removed the link, saying so");
            File.Exists(Path.Combine(folder, ".jail-2147480000")).Should().BeFalse();

            // Running: the VM swaps its serial socket for a link to another root service's socket, and plants its
            // restart record and pid file's temporary name.
            using var service = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            string serviceSocket = Path.Combine(_dataDirectory, "service.sock");
            service.Bind(new UnixDomainSocketEndPoint(serviceSocket));
            service.Listen();
            File.Delete(Path.Combine(folder, "serial.sock"));
            PlantLink(Path.Combine(folder, "serial.sock"), serviceSocket);
            PlantLink(Path.Combine(folder, "restart-pending"), canary);
            PlantLink(Path.Combine(folder, "vm.json"), canary);
            PlantLink(Path.Combine(folder, "vmm.log"), canary);
            int refusedBefore = refusals.Count;
            info.GetSocketPath(vm.Id, VmSocket.Serial).Should().BeNull("a link is not the VMM's socket");
            var connect = async () => await VmmSockets.ConnectAsync(Path.Combine(folder, "serial.sock"), Token);
            await connect.Should().ThrowAsync<SocketException>();
            service.Poll(100_000, SelectMode.SelectRead).Should().BeFalse("nothing connected to the other service through the link");

            (await PowerAsync(client, vm.Id, "stop")).Should().Be(VmPowerState.Stopped);
            (await PowerAsync(client, vm.Id, "start")).Should().Be(VmPowerState.Running, "a restart after a run full of links");
            refusals.Skip(refusedBefore).Should().Contain(r => r.Path == Path.Combine(folder, "vm.json"), "the link planted while it ran was met at the restart");
            refusals.Skip(refusedBefore).Should().Contain(r => r.Path == Path.Combine(folder, "vmm.log"));
            (await PowerAsync(client, vm.Id, "stop")).Should().Be(VmPowerState.Stopped);
            CanaryIsAsMade(canary);

            // Deleted: the folder goes, entry by entry, the links with it and never their targets.
            foreach (string name in new[] { "vm.json.tmp", "vmm.pid.tmp", "restart-pending.tmp", ".jail-2147480000" })
            {
                PlantLink(Path.Combine(folder, name), canary);
            }

            PlantLink(Path.Combine(folder, "up"), _dataDirectory);
            var deleted = await client.DeleteAsync($"/api/v1/vms/{vm.Id}", Token);
            deleted.IsSuccessStatusCode.Should().BeTrue(await deleted.Content.ReadAsStringAsync(Token));
            Directory.Exists(folder).Should().BeFalse("a deleted VM's runtime folder is removed");
            CanaryIsAsMade(canary);
            File.Exists(serviceSocket).Should().BeTrue();
            Directory.Exists(Path.Combine(app.DataDirectory, "run")).Should().BeTrue("a link to the folder above was removed, not followed");
        }
        finally
        {
            RuntimeFolder.Refused -= OnRefused;
        }
    }

    /// <summary>A link at <paramref name="path"/> to <paramref name="target"/>, owned by the VM's uid (as its VMM would make it).</summary>
    private static void PlantLink(string path, string target)
    {
        if (File.Exists(path) || Directory.Exists(path) || new FileInfo(path).LinkTarget is not null)
        {
            File.Delete(path);
        }

        File.CreateSymbolicLink(path, target);
        RunTool("chown", "-h", $"{HostileUid}:{HostileUid}", path);
    }

    private static void CanaryIsAsMade(string canary)
    {
        File.ReadAllText(canary).Should().Be(CanaryText);
        RunTool("stat", "-c", "%u:%g %a %h %F", canary).Trim().Should().Be("0:0 640 1 regular file", "its owner, mode and links stay as made");
    }

    private static string RunTool(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        process.ExitCode.Should().Be(0, $"{program} {string.Join(' ', arguments)}");
        return output;
    }
}
