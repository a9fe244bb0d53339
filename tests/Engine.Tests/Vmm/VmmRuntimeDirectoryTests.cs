using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Platform.Engine.Control;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Vmm;

// platform-vmm as the control plane runs it: --runtime-dir with control.sock, serial.sock and vmm.pid.
public sealed class VmmRuntimeDirectoryTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "pvmrt-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly List<int> _started = [];

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private Process StartVmm(string guest = "echo")
    {
        var start = new ProcessStartInfo(VmmProcess.ProgramPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string arg in new[] { "--kernel", TestGuests.Path(guest), "--memory", "64M", "--serial", "socket", "--runtime-dir", _dir })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start)!;
        _started.Add(process.Id);
        return process;
    }

    private async Task<VmmControlClient> ConnectAsync(Process vmm)
    {
        string socket = Path.Combine(_dir, ControlProtocol.ControlSocketName);
        var deadline = DateTime.UtcNow + Timeout;
        // A killed VMM leaves its pid file: wait for this one's pid, as the control plane does.
        string pidFile = Path.Combine(_dir, ControlProtocol.PidFileName);
        while (!File.Exists(pidFile) || File.ReadAllText(pidFile).Trim() != VmmProcess.VmmPid(vmm).ToString(CultureInfo.InvariantCulture))
        {
            if (vmm.HasExited)
            {
                throw new InvalidOperationException($"platform-vmm ended early: {await vmm.StandardError.ReadToEndAsync(Token)}");
            }

            DateTime.UtcNow.Should().BeBefore(deadline);
            await Task.Delay(20, Token);
        }

        return await VmmControlClient.ConnectAsync(socket, Token);
    }

    private async Task<string> ReadSerialUntilAsync(string marker)
    {
        using var serial = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await serial.ConnectAsync(new UnixDomainSocketEndPoint(Path.Combine(_dir, ControlProtocol.SerialSocketName)), Token);
        var text = new StringBuilder();
        byte[] buffer = new byte[4096];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(Timeout);
        while (!text.ToString().Contains(marker, StringComparison.Ordinal))
        {
            int read = await serial.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            read.Should().BePositive();
            text.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return text.ToString();
    }

    [Fact]
    public async Task Quit_over_the_control_socket_ends_the_vmm_with_code_0_and_cleans_the_folder()
    {
        using var vmm = StartVmm();
        await using var client = await ConnectAsync(vmm);

        client.Greeting.Pid.Should().Be(VmmProcess.VmmPid(vmm));
        File.ReadAllText(Path.Combine(_dir, ControlProtocol.PidFileName)).Trim().Should().Be(VmmProcess.VmmPid(vmm).ToString(CultureInfo.InvariantCulture));
        File.GetUnixFileMode(_dir).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        (await ReadSerialUntilAsync("READY")).Should().Contain("PLATFORM-TEST echo START");

        await client.QuitAsync(Token);
        await vmm.WaitForExitAsync(Token).WaitAsync(Timeout, Token);

        vmm.ExitCode.Should().Be(0);
        await client.Completion.WaitAsync(Timeout, Token);
        Directory.GetFileSystemEntries(_dir).Should().BeEmpty("the pid file and both sockets are removed on a clean exit");
    }

    [Fact]
    public async Task SIGTERM_ends_the_vm_cleanly_and_clients_see_the_shutdown_event()
    {
        using var vmm = StartVmm();
        await using var client = await ConnectAsync(vmm);
        var shutdown = new TaskCompletionSource<VmmControlEvent>();
        client.EventReceived += e =>
        {
            if (e.Name == ControlProtocol.Events.Shutdown)
            {
                shutdown.TrySetResult(e);
            }
        };
        await ReadSerialUntilAsync("READY");

        Process.Start("kill", ["-TERM", vmm.Id.ToString(CultureInfo.InvariantCulture)]).WaitForExit();

        await vmm.WaitForExitAsync(Token).WaitAsync(Timeout, Token);
        vmm.ExitCode.Should().Be(0);
        (await shutdown.Task.WaitAsync(Timeout, Token)).Reason.Should().Be("host-qmp-quit");
        Directory.GetFileSystemEntries(_dir).Should().BeEmpty();
    }

    [Fact]
    public async Task A_killed_vmm_leaves_stale_files_that_the_next_vmm_replaces()
    {
        using (var killed = StartVmm())
        {
            await using var client = await ConnectAsync(killed);
            killed.Kill();
            await killed.WaitForExitAsync(Token);
            await client.Completion.WaitAsync(Timeout, Token);
        }

        File.Exists(Path.Combine(_dir, ControlProtocol.ControlSocketName)).Should().BeTrue("SIGKILL leaves the socket behind");

        using var next = StartVmm();
        await using var nextClient = await ConnectAsync(next);
        nextClient.Greeting.Pid.Should().Be(VmmProcess.VmmPid(next));
        await nextClient.QuitAsync(Token);
        await next.WaitForExitAsync(Token).WaitAsync(Timeout, Token);
        next.ExitCode.Should().Be(0);
    }

    [Fact]
    public async Task A_second_vmm_on_a_folder_in_use_refuses_to_start_and_leaves_the_first_alone()
    {
        using var first = StartVmm();
        await using var client = await ConnectAsync(first);
        await ReadSerialUntilAsync("READY");

        using var second = StartVmm();
        await second.WaitForExitAsync(Token).WaitAsync(Timeout, Token);

        second.ExitCode.Should().Be(1);
        (await second.StandardError.ReadToEndAsync(Token)).Should().Contain("still running");
        (await client.QueryStatusAsync(Token)).Running.Should().BeTrue();
        File.ReadAllText(Path.Combine(_dir, ControlProtocol.PidFileName)).Trim().Should().Be(VmmProcess.VmmPid(first).ToString(CultureInfo.InvariantCulture));
        await client.QuitAsync(Token);
        await first.WaitForExitAsync(Token).WaitAsync(Timeout, Token);
    }

    public void Dispose()
    {
        // A test that failed half-way must not leave its VMM running.
        foreach (int pid in _started)
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                if (process.ProcessName == "platform-vmm")
                {
                    process.Kill();
                }
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
            {
                // Already gone.
            }
        }

        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }
}
