using System.Diagnostics;
using System.Globalization;
using Platform.Engine.Control;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Vmm;

// The jail (docs/architecture.md, Confinement): the published platform-vmm, started as root as the dashboard starts it,
// runs its guest as an unprivileged uid in namespaces of its own under a seccomp filter that kills it for anything else.
public sealed class VmmJailTests : IDisposable
{
    private const uint JailUid = 200123;
    private const uint JailGid = 200124;
    private const int SigSys = 31;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "pvmjail-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly List<Process> _started = [];

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private Process StartVmm(IReadOnlyList<string> jail, string? selfTest = null, IReadOnlyList<string>? guest = null)
    {
        var start = new ProcessStartInfo(VmmProcess.ProgramPath) { RedirectStandardOutput = true, RedirectStandardError = true };
        guest ??= ["--kernel", TestGuests.Path("echo"), "--serial", "socket"];
        foreach (string arg in (string[])[.. guest, "--memory", "64M", "--display", "none", "--runtime-dir", _dir, .. jail])
        {
            start.ArgumentList.Add(arg);
        }

        if (selfTest is not null)
        {
            start.Environment["PLATFORM_VMM_JAIL_SELFTEST"] = selfTest;
        }

        var process = Process.Start(start)!;
        _started.Add(process);
        return process;
    }

    /// <summary>Waits for vmm.pid to name the VMM <paramref name="started"/> runs, and connects.</summary>
    private async Task<(VmmControlClient Client, int Pid)> ConnectAsync(Process started)
    {
        string pidFile = Path.Combine(_dir, ControlProtocol.PidFileName);
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            int pid = VmmProcess.VmmPid(started);
            if (File.Exists(pidFile) && File.ReadAllText(pidFile).Trim() == pid.ToString(CultureInfo.InvariantCulture))
            {
                return (await VmmControlClient.ConnectAsync(Path.Combine(_dir, ControlProtocol.ControlSocketName), Token), pid);
            }

            if (started.HasExited)
            {
                throw new InvalidOperationException($"platform-vmm ended early: {await started.StandardError.ReadToEndAsync(Token)}");
            }

            DateTime.UtcNow.Should().BeBefore(deadline);
            await Task.Delay(20, Token);
        }
    }

    private static Dictionary<string, string> Status(int pid) => File.ReadAllLines($"/proc/{pid}/status")
        .Select(line => line.Split(':', 2))
        .Where(parts => parts.Length == 2)
        .ToDictionary(parts => parts[0], parts => parts[1].Trim());

    private static string Namespace(int pid, string kind) => new FileInfo($"/proc/{pid}/ns/{kind}").LinkTarget!;

    [Fact]
    public async Task A_jailed_vmm_runs_as_its_uid_without_capabilities_under_seccomp_in_namespaces_of_its_own()
    {
        Environment.IsPrivilegedProcess.Should().BeTrue("the jail is made by root, as the dashboard runs here and in CI");
        using var keeper = StartVmm(["--jail", $"{JailUid}:{JailGid}"]);
        var (client, pid) = await ConnectAsync(keeper);
        await using var _ = client;

        pid.Should().NotBe(keeper.Id, "a new PID namespace takes a new process: the keeper started the VMM inside it");
        client.Greeting.Pid.Should().Be(pid, "the greeting names the pid the host sees");
        var status = Status(pid);
        status["Uid"].Split('\t').Should().AllBe(JailUid.ToString(CultureInfo.InvariantCulture));
        status["Gid"].Split('\t').Should().AllBe(JailGid.ToString(CultureInfo.InvariantCulture));
        status["Groups"].Should().BeEmpty();
        status["CapEff"].Should().Be("0000000000000000");
        status["CapPrm"].Should().Be("0000000000000000");
        status["CapAmb"].Should().Be("0000000000000000");
        status["NoNewPrivs"].Should().Be("1");
        status["Seccomp"].Should().Be("2", "2 is filter mode");
        status["NSpid"].Split('\t').Should().Equal(pid.ToString(CultureInfo.InvariantCulture), "1");
        foreach (string kind in new[] { "mnt", "pid", "ipc", "uts" })
        {
            Namespace(pid, kind).Should().NotBe(Namespace(Environment.ProcessId, kind), $"the VMM has a {kind} namespace of its own");
        }

        Namespace(pid, "net").Should().Be(Namespace(Environment.ProcessId, "net"), "the host's network stays (passt and TAPs use it)");

        // Its root holds its own files at their paths, and not the host's: no /etc, no /usr, no shell.
        string root = $"/proc/{pid}/root";
        File.Exists(root + TestGuests.Path("echo")).Should().BeTrue();
        File.Exists(root + Path.Combine(_dir, ControlProtocol.ControlSocketName)).Should().BeTrue();
        File.Exists(root + "/etc/shadow").Should().BeFalse();
        File.Exists(root + "/bin/sh").Should().BeFalse();
        Directory.Exists(root + "/usr").Should().BeFalse();
        Directory.GetDirectories(root + "/proc").Select(Path.GetFileName).Where(n => n!.All(char.IsAsciiDigit)).Should().Contain("1")
            .And.NotContain(Environment.ProcessId.ToString(CultureInfo.InvariantCulture), "its /proc shows its own PID namespace");

        // It greets once the first boot is built and its sockets are up, and runs the guest a moment later (QMP's
        // prelaunch): a loaded host once asked in between.
        var starting = Stopwatch.StartNew();
        while (!(await client.QueryStatusAsync(Token)).Running)
        {
            starting.Elapsed.Should().BeLessThan(Timeout, "the jailed VMM runs its guest soon after it greets");
            await Task.Delay(10, Token);
        }

        await client.QuitAsync(Token);
        await keeper.WaitForExitAsync(Token).WaitAsync(Timeout, Token);
        keeper.ExitCode.Should().Be(0, "the keeper ends as the VMM ended");
        Directory.GetFileSystemEntries(_dir).Should().BeEmpty("the VMM removes its pid file and sockets, the keeper its root folder");
    }

    [Fact]
    public async Task The_runtime_folder_is_the_vms_own_and_other_users_cannot_reach_its_sockets()
    {
        using var keeper = StartVmm(["--jail", $"{JailUid}:{JailGid}"]);
        var (client, _) = await ConnectAsync(keeper);
        await using var __ = client;

        var folder = new DirectoryInfo(_dir);
        folder.UnixFileMode.Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        StatOwner(_dir).Should().Be(JailUid);

        // Another local user (nobody) is refused; root (the dashboard) is let in, as the connection above shows.
        string socket = Path.Combine(_dir, ControlProtocol.ControlSocketName);
        string connect = $"import socket; socket.socket(socket.AF_UNIX).connect('{socket}')";
        var attempt = Process.Start(new ProcessStartInfo("setpriv",
            ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c", connect])
        { RedirectStandardError = true, WorkingDirectory = "/" })!;
        string error = await attempt.StandardError.ReadToEndAsync(Token);
        await attempt.WaitForExitAsync(Token);
        attempt.ExitCode.Should().NotBe(0);
        error.Should().Contain("PermissionError");
        var asRoot = Process.Start(new ProcessStartInfo("/usr/bin/python3", ["-c", connect]) { WorkingDirectory = "/" })!;
        await asRoot.WaitForExitAsync(Token);
        asRoot.ExitCode.Should().Be(0, "the same connection as root (the dashboard) is let in");

        await client.QuitAsync(Token);
        await keeper.WaitForExitAsync(Token).WaitAsync(Timeout, Token);
    }

    [Theory]
    [InlineData("ptrace", "ptrace")]
    [InlineData("execve", "execve")]
    public async Task A_forbidden_call_kills_the_vmm_with_SIGSYS_and_the_log_names_it(string attempt, string syscall)
    {
        using var keeper = StartVmm(["--jail", $"{JailUid}:{JailGid}"], selfTest: attempt);
        var stderr = keeper.StandardError.ReadToEndAsync(Token);
        await keeper.WaitForExitAsync(Token).WaitAsync(Timeout, Token);

        keeper.ExitCode.Should().Be(128 + SigSys, "the keeper dies of the VMM's signal, as an unjailed VMM would have");
        string log = await stderr;
        log.Should().Contain($"jail self-test: trying {attempt}");
        log.Should().Contain($"was killed by seccomp (SIGSYS): it called {syscall} (syscall ");
        log.Should().NotContain("was not killed by the jail");
    }

    [Fact]
    public async Task Opening_etc_shadow_finds_no_such_file_in_the_jails_root()
    {
        using var keeper = StartVmm(["--jail", $"{JailUid}:{JailGid}"], selfTest: "open-shadow");
        var stderr = keeper.StandardError.ReadToEndAsync(Token);
        var (client, _) = await ConnectAsync(keeper);
        await using var _ = client;
        await client.QuitAsync(Token);
        await keeper.WaitForExitAsync(Token).WaitAsync(Timeout, Token);

        keeper.ExitCode.Should().Be(0);
        (await stderr).Should().Contain("jail self-test: open-shadow: errno 2", "ENOENT: the root holds the VM's files only");
    }

    [Fact]
    public async Task A_jailed_vm_with_a_user_nic_reboots_and_its_nic_still_reaches_the_host()
    {
        // The nat guest takes a lease from passt, sends a datagram to a UDP echo service on the host's loopback through
        // the NAT, prints its verdict and resets; with --on-reboot restart it boots again inside the same jail, where
        // no passt can be started (no execve): the first boot's passt must serve the second.
        using var echo = new System.Net.Sockets.UdpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        _ = Task.Run(async () =>
        {
            while (true)
            {
                var datagram = await echo.ReceiveAsync(Token);
                await echo.SendAsync(datagram.Buffer, datagram.RemoteEndPoint, Token);
            }
        }, Token);
        int port = ((System.Net.IPEndPoint)echo.Client.LocalEndPoint!).Port;
        using var keeper = StartVmm(["--jail", $"{JailUid}:{JailGid}"], guest:
            ["--kernel", TestGuests.Path("nat"), "--append", $"ping=0 echo={port}", "--net", "user", "--on-reboot", "restart", "--serial", "stdio"]);
        var output = new System.Text.StringBuilder();
        var stderr = keeper.StandardError.ReadToEndAsync(Token);
        _ = Task.Run(async () =>
        {
            char[] buffer = new char[4096];
            int read;
            while ((read = await keeper.StandardOutput.ReadAsync(buffer, Token)) > 0)
            {
                lock (output)
                {
                    output.Append(buffer, 0, read);
                }
            }
        }, Token);
        string Output()
        {
            lock (output)
            {
                return output.ToString();
            }
        }

        var deadline = Stopwatch.StartNew();
        while (System.Text.RegularExpressions.Regex.Count(Output(), "udp: echo 'through-the-nat'") < 2)
        {
            Output().Should().NotContain("PLATFORM-TEST nat FAIL");
            keeper.HasExited.Should().BeFalse($"the VMM ended (code {(keeper.HasExited ? keeper.ExitCode : 0)}): {(keeper.HasExited ? await stderr : "")}\n{Output()}");
            deadline.Elapsed.Should().BeLessThan(2 * Timeout, Output());
            await Task.Delay(50, Token);
        }

        var (client, pid) = await ConnectAsync(keeper);
        await using var __ = client;
        (await client.QueryStatusAsync(Token)).Boots.Should().BeGreaterThanOrEqualTo(2);
        Status(pid)["Seccomp"].Should().Be("2", "the second boot ran jailed as the first did");
        await client.QuitAsync(Token);
        await keeper.WaitForExitAsync(Token).WaitAsync(Timeout, Token);
        (await stderr).Should().NotContain("cannot be started inside the jail");
    }

    [Fact]
    public async Task No_jail_says_so_loudly_and_runs_with_the_rights_it_was_started_with()
    {
        using var vmm = StartVmm(["--no-jail"]);
        var (client, pid) = await ConnectAsync(vmm);
        await using var _ = client;

        pid.Should().Be(vmm.Id);
        var status = Status(pid);
        status["Uid"].Split('\t')[0].Should().Be("0");
        status["Seccomp"].Should().Be("0");
        await client.QuitAsync(Token);
        await vmm.WaitForExitAsync(Token).WaitAsync(Timeout, Token);
        (await vmm.StandardError.ReadToEndAsync(Token)).Should().Contain("WARNING: --no-jail: this VMM is NOT confined");
    }

    [Fact]
    public async Task A_writable_disk_named_through_a_link_is_given_to_the_vm_behind_the_link_and_mounted_in_its_root()
    {
        string disk = Path.Combine(DisksFolder(), "disk.img");
        string link = Path.Combine(DisksFolder(), "by-name.img");
        await File.WriteAllBytesAsync(disk, new byte[1 << 20], Token);
        File.CreateSymbolicLink(link, disk);

        using var keeper = StartVmm(["--jail", $"{JailUid}:{JailGid}"], guest: ["--kernel", TestGuests.Path("echo"), "--serial", "socket", "--disk", link]);
        var (client, pid) = await ConnectAsync(keeper);
        await using var _ = client;

        StatOwner(disk).Should().Be(JailUid, "the file the link names is the VM's disk");
        StatOwner(link).Should().Be(0u, "the link itself is left as it was (stat without -L reads the link)");
        string root = $"/proc/{pid}/root";
        new FileInfo(root + link).Length.Should().Be(1 << 20, "the disk is in the jail at the name the VM was given");
        new FileInfo(root + link).LinkTarget.Should().BeNull("the jail holds the file itself there, bound from the descriptor that was checked");
        await client.QuitAsync(Token);
        await keeper.WaitForExitAsync(Token).WaitAsync(Timeout, Token);
    }

    [Fact]
    public async Task A_writable_disk_with_a_second_name_is_refused_and_nothing_is_given()
    {
        string disk = Path.Combine(DisksFolder(), "disk.img");
        await File.WriteAllBytesAsync(disk, new byte[1 << 20], Token);
        // A second name for the same file: in a real attack, a hard link to a system file placed where a disk is expected.
        Assert.Equal(0, Link(disk, Path.Combine(DisksFolder(), "second-name")));

        using var keeper = StartVmm(["--jail", $"{JailUid}:{JailGid}"], guest: ["--kernel", TestGuests.Path("echo"), "--serial", "socket", "--disk", disk]);
        string stderr = await keeper.StandardError.ReadToEndAsync(Token);
        await keeper.WaitForExitAsync(Token).WaitAsync(Timeout, Token);

        keeper.ExitCode.Should().NotBe(0);
        stderr.Should().Contain("has 2 names (hard links)");
        StatOwner(disk).Should().Be(0u, "nothing is given to the VM's uid");
    }

    private string DisksFolder()
    {
        string folder = _dir + "-disks";
        Directory.CreateDirectory(folder);
        return folder;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int Link(string existing, string created);

    private static uint StatOwner(string path)
    {
        var stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%u", path]) { RedirectStandardOutput = true })!;
        string text = stat.StandardOutput.ReadToEnd();
        stat.WaitForExit();
        return uint.Parse(text.Trim(), CultureInfo.InvariantCulture);
    }

    public void Dispose()
    {
        foreach (var process in _started)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }
            }
            catch (InvalidOperationException)
            {
            }

            process.Dispose();
        }

        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }

        try
        {
            Directory.Delete(_dir + "-disks", recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
