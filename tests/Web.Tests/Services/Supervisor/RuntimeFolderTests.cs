using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Platform.Web.Services.Supervisor;

namespace Platform.Web.Tests.Services.Supervisor;

// What a jailed VMM can plant in the runtime folder it owns — links to a host file, a hard link, a FIFO, a link to
// another service's socket — and what the dashboard (root) then does through RuntimeFolder: never write, read, chown
// or remove through them, and say so.
public sealed class RuntimeFolderTests : IDisposable
{
    private const string CanaryText = "canary: must never change\n";
    private readonly string _root = Directory.CreateTempSubdirectory("runtime-folder-").FullName;
    private readonly string _folder;
    private readonly string _canary;
    private readonly ConcurrentQueue<(string Path, string Reason)> _refusals = new();

    public RuntimeFolderTests()
    {
        _folder = Directory.CreateDirectory(Path.Combine(_root, "run", "vm")).FullName;
        _canary = Path.Combine(_root, "canary");
        File.WriteAllText(_canary, CanaryText);
        Run("chmod", "640", _canary);
        RuntimeFolder.Refused += OnRefused;
    }

    public void Dispose()
    {
        RuntimeFolder.Refused -= OnRefused;
        Directory.Delete(_root, recursive: true);
    }

    private void OnRefused(string path, string reason)
    {
        if (path.StartsWith(_folder, StringComparison.Ordinal))
        {
            _refusals.Enqueue((path, reason));
        }
    }

    private string Plant(string name)
    {
        string path = Path.Combine(_folder, name);
        File.CreateSymbolicLink(path, _canary);
        return path;
    }

    private void CanaryIsUntouched()
    {
        File.ReadAllText(_canary).Should().Be(CanaryText);
        new FileInfo(_canary).LinkTarget.Should().BeNull();
        Run("stat", "-c", "%u:%g %a %h", _canary).Trim().Should().Be("0:0 640 1", "owner, mode and link count stay as made");
    }

    private static string Run(string program, params string[] arguments)
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

    private void RefusedOnce(string name, string because) =>
        _refusals.Should().Contain(r => r.Path == Path.Combine(_folder, name) && r.Reason.Contains(because, StringComparison.Ordinal),
            $"{name} was planted, so using it must be refused with the reason ({string.Join("; ", _refusals)})");

    [Fact]
    public void A_file_written_in_place_of_a_planted_link_replaces_the_link_and_leaves_its_target_alone()
    {
        string config = Plant("vm.json");
        Plant("vm.json.tmp");

        using (var folder = RuntimeFolder.Open(_folder)!)
        {
            folder.WriteNew("vm.json", "{}\n"u8);
        }

        CanaryIsUntouched();
        new FileInfo(config).LinkTarget.Should().BeNull("the link itself was replaced by a file of the dashboard's");
        File.ReadAllText(config).Should().Be("{}\n");
        RefusedOnce("vm.json", "a symbolic link");
    }

    [Fact]
    public async Task A_planted_link_fifo_or_hard_link_is_never_read()
    {
        Plant("vmm.pid");
        Run("ln", _canary, Path.Combine(_folder, "vmm.log"));
        Run("mkfifo", Path.Combine(_folder, "restart-pending"));

        using var folder = RuntimeFolder.Open(_folder)!;
        folder.Read("vmm.pid", 64, vmMayWrite: true).Should().BeNull();
        folder.Read("vmm.log", 1 << 16).Should().BeNull("a hard link to a host file is not the dashboard's log");
        // A FIFO would block an ordinary open for good; this one returns at once.
        var read = Task.Run(() => folder.Read("restart-pending", 1024), TestContext.Current.CancellationToken);
        (await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken))).Should().BeSameAs(read, "a planted FIFO must not hold the dashboard");
        (await read).Should().BeNull();

        RefusedOnce("vmm.pid", "a symbolic link");
        RefusedOnce("vmm.log", "2 hard links");
        RefusedOnce("restart-pending", "a FIFO");
        File.Delete(Path.Combine(_folder, "vmm.log"));
        CanaryIsUntouched();
    }

    [Fact]
    public void A_log_opened_for_the_vmm_is_a_new_file_when_a_link_held_its_name()
    {
        string log = Plant("vmm.log");
        using (var folder = RuntimeFolder.Open(_folder)!)
        using (var file = folder.OpenForAppend("vmm.log", 1 << 20))
        {
            RandomAccess.Write(file, "the VMM's line\n"u8, 0);
        }

        CanaryIsUntouched();
        new FileInfo(log).LinkTarget.Should().BeNull();
        File.ReadAllText(log).Should().Be("the VMM's line\n");
        RefusedOnce("vmm.log", "a symbolic link");
    }

    [Fact]
    public async Task A_link_to_another_services_socket_is_never_connected_to()
    {
        // Another root service's socket, outside the folder: what a hostile VMM would make the dashboard talk to.
        string service = Path.Combine(_root, "service.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(service));
        listener.Listen();
        File.CreateSymbolicLink(Path.Combine(_folder, "control.sock"), service);

        var connect = async () => await VmmSockets.ConnectAsync(Path.Combine(_folder, "control.sock"), TestContext.Current.CancellationToken);
        await connect.Should().ThrowAsync<SocketException>();
        listener.Poll(100_000, SelectMode.SelectRead).Should().BeFalse("nothing may have connected to the other service");
        RefusedOnce("control.sock", "a symbolic link");
    }

    [Fact]
    public async Task A_socket_the_folder_holds_is_connected_to_through_its_descriptor()
    {
        string own = Path.Combine(_folder, "serial.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(own));
        listener.Listen();

        using var client = await VmmSockets.ConnectAsync(own, TestContext.Current.CancellationToken);
        client.Connected.Should().BeTrue();
        using var accepted = listener.Accept();
        client.Send("x"u8);
        byte[] one = new byte[1];
        accepted.Receive(one).Should().Be(1);
    }

    [Fact]
    public void Removing_the_stale_files_and_the_tree_unlinks_the_links_not_their_targets()
    {
        foreach (string name in new[] { "vmm.pid", "vmm.pid.tmp", "control.sock", "serial.sock", "vnc.sock", "restart-pending" })
        {
            Plant(name);
        }

        Directory.CreateDirectory(Path.Combine(_folder, ".jail-1", "deeper"));
        File.CreateSymbolicLink(Path.Combine(_folder, ".jail-1", "deeper", "link"), _root);
        File.CreateSymbolicLink(Path.Combine(_folder, "outside"), _root);

        VmmProcess.RemoveStaleFiles(_folder);
        CrashRestarts.DeletePending(_folder);
        foreach (string name in new[] { "vmm.pid", "control.sock", "restart-pending" })
        {
            File.Exists(Path.Combine(_folder, name)).Should().BeFalse();
            RefusedOnce(name, "a symbolic link");
        }

        RuntimeFolder.RemoveTree(_folder);
        Directory.Exists(_folder).Should().BeFalse();
        CanaryIsUntouched();
        Directory.Exists(_root).Should().BeTrue("a link to the folder above was removed, not followed");
    }

    [Fact]
    public void Text_the_dashboard_wrote_reads_back()
    {
        using var folder = RuntimeFolder.Open(_folder)!;
        folder.WriteNew("restart-pending", Encoding.UTF8.GetBytes("2026-12-06T00:00:00.0000000+00:00\n"));
        Encoding.UTF8.GetString(folder.Read("restart-pending", 1024)!).Should().StartWith("2026-12-06");
        _refusals.Should().BeEmpty();
    }
}
