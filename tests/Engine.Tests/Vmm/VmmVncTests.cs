using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Platform.Engine.Control;
using Platform.Engine.Tests.Display;
using Platform.Engine.Tests.Infrastructure;
using StbImageSharp;

namespace Platform.Engine.Tests.Vmm;

// platform-vmm with a display as a user runs it: vnc.sock in the runtime folder, --vnc for ordinary viewers (Debian's
// gvnccapture saves the fb guest's screen, and a SeaBIOS guest's mode 12h picture), VNC authentication with a password file, and the refusals.
public sealed class VmmVncTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "pvmvnc-" + Guid.NewGuid().ToString("N")[..10]);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public async Task Gvnccapture_saves_the_fb_guests_picture_from_the_vnc_port_and_vnc_sock_is_owner_only()
    {
        Assert.SkipUnless(File.Exists("/usr/bin/gvnccapture"), "gvnccapture is not installed (Debian package gvncviewer; ./platform test installs it)");
        int port = FreeLoopbackPort();
        using var vmm = Start("--vnc", $"127.0.0.1:{port}");
        await using var control = await ConnectAsync(vmm);
        string serial = await ReadSerialUntilAsync("READY");
        uint box = FbGuestScreen.GuestChecksum(serial, "480x48 fnv ");

        string vncSocket = Path.Combine(_dir, ControlProtocol.VncSocketName);
        File.GetUnixFileMode(vncSocket).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var (width, height, Pixel) = await CaptureAsync(port);
        (width, height).Should().Be((640, 480));
        FbGuestScreen.ShouldShowBars(Pixel, 640, 480);
        FbGuestScreen.Checksum(Pixel, 80, 300, 480, 48).Should().Be(box, "the text came through pixel for pixel");

        var stats = await control.QueryStatsAsync(Token);
        stats.Devices.Should().Contain(d => d.Name == "vnc" && d.Counters["connections"] >= 1 && d.Counters["bytes_sent"] > 0);

        await control.QuitAsync(Token);
        await vmm.WaitForExitAsync(Token);
        vmm.ExitCode.Should().Be(0);
        File.Exists(vncSocket).Should().BeFalse("a clean exit removes vnc.sock");
    }

    [Fact]
    public async Task A_password_file_guards_the_tcp_port_but_not_vnc_sock()
    {
        Directory.CreateDirectory(_dir);
        string passwordFile = Path.Combine(_dir, "vnc.pass");
        await File.WriteAllTextAsync(passwordFile, "letmein\n", Token);
        int port = FreeLoopbackPort();
        using var vmm = Start("--vnc", $"127.0.0.1:{port},password-file={passwordFile}");
        await using var control = await ConnectAsync(vmm);
        await ReadSerialUntilAsync("READY");
        var endPoint = new IPEndPoint(IPAddress.Loopback, port);

        await using (var client = await FbGuestScreen.ConnectTcpAsync(endPoint, "letmein"))
        {
            await FbGuestScreen.ReadUntilAsync(client, c => c.Width == 640, Timeout, "the screen");
        }

        var wrong = async () => await (await FbGuestScreen.ConnectTcpAsync(endPoint, "guess")).DisposeAsync();
        await wrong.Should().ThrowAsync<UnauthorizedAccessException>().WithMessage("*Authentication failed*");

        await using (var local = await FbGuestScreen.ConnectUnixAsync(Path.Combine(_dir, ControlProtocol.VncSocketName)))
        {
            await FbGuestScreen.ReadUntilAsync(local, c => c.Width == 640, Timeout, "the screen over vnc.sock, with no password");
        }

        var stats = await control.QueryStatsAsync(Token);
        stats.Devices.Single(d => d.Name == "vnc").Counters["authentication_failures"].Should().Be(1);
        await control.QuitAsync(Token);
        await vmm.WaitForExitAsync(Token);
    }

    [Fact]
    public async Task Without_a_display_there_is_no_vnc_sock()
    {
        // Restart keeps the VMM up while the guest fails (no std-vga) and reboots.
        using var vmm = Start("--display", "none", "--on-reboot", "restart");
        await using var control = await ConnectAsync(vmm);
        File.Exists(Path.Combine(_dir, ControlProtocol.VncSocketName)).Should().BeFalse();
        (await ReadSerialUntilAsync("PLATFORM-TEST fb FAIL")).Should().Contain("no std-vga");
        (await control.QueryStatsAsync(Token)).Devices.Should().NotContain(d => d.Name == "vnc" || d.Name == "display");
        await control.QuitAsync(Token);
        await vmm.WaitForExitAsync(Token);
    }

    [Theory]
    [InlineData("not a loopback address", "--vnc", "192.0.2.1:5901")]
    [InlineData("not a loopback address", "--vnc", "0.0.0.0:5901")]
    [InlineData("--vnc (vnc): serves the display: leave it out when display is none", "--display", "none", "--vnc", "127.0.0.1:5901")]
    [InlineData("--display must be none or std (got cirrus)", "--display", "cirrus")]
    [InlineData("ADDR:PORT", "--vnc", "5901")]
    public async Task Refused_listeners_are_usage_errors(string message, params string[] args)
    {
        var (code, _, stderr) = await VmmProcess.RunAsync(Timeout, ["--kernel", TestGuests.Path("fb"), .. args]);
        code.Should().Be(64);
        stderr.Should().Contain(message);
    }

    [Fact]
    public async Task Gvnccapture_saves_the_mode_12h_picture_a_SeaBIOS_guest_drew()
    {
        Assert.SkipUnless(File.Exists("/usr/bin/gvnccapture"), "gvnccapture is not installed (Debian package gvncviewer; ./platform test installs it)");
        int port = FreeLoopbackPort();
        using var vmm = StartWith(
            ["--firmware", "bios", "--display", "std", "--memory", "128M", "--disk", $"{TestGuests.BootImage("vga12")},ro"],
            "--vnc", $"127.0.0.1:{port}");
        await using var control = await ConnectAsync(vmm);
        string serial = await ReadSerialUntilAsync("PLATFORM-TEST vga12 PASS");
        serial.Should().Contain("vga12: int 10h read pixel 0x0e");

        var (width, height, pixel) = await CaptureAsync(port);
        (width, height).Should().Be((640, 480));
        FirmwareGraphicsModeTests.ShouldShowVga12Picture(pixel);

        await control.QuitAsync(Token);
        await vmm.WaitForExitAsync(Token);
        vmm.ExitCode.Should().Be(0);
    }

    [Fact]
    public async Task A_vnc_port_in_use_is_a_start_failure_that_names_it()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var (code, _, stderr) = await VmmProcess.RunAsync(Timeout, "--kernel", TestGuests.Path("fb"), "--memory", "64M", "--vnc", $"127.0.0.1:{port}");
        code.Should().Be(1);
        stderr.Should().Contain($"Cannot listen for VNC on 127.0.0.1:{port}");
    }

    private Process Start(params string[] extra) => StartWith(["--kernel", TestGuests.Path("fb"), "--memory", "64M"], extra);

    private Process StartWith(string[] machine, params string[] extra)
    {
        var start = new ProcessStartInfo(VmmProcess.ProgramPath) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in (string[])[.. machine, "--serial", "socket", "--runtime-dir", _dir, .. extra])
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start)!;
    }

    private async Task<VmmControlClient> ConnectAsync(Process vmm)
    {
        string pidFile = Path.Combine(_dir, ControlProtocol.PidFileName);
        var deadline = DateTime.UtcNow + Timeout;
        while (!File.Exists(pidFile) || (await File.ReadAllTextAsync(pidFile, Token)).Trim() != VmmProcess.VmmPid(vmm).ToString(CultureInfo.InvariantCulture))
        {
            if (vmm.HasExited)
            {
                throw new InvalidOperationException($"platform-vmm ended early: {await vmm.StandardError.ReadToEndAsync(Token)}");
            }

            DateTime.UtcNow.Should().BeBefore(deadline);
            await Task.Delay(20, Token);
        }

        return await VmmControlClient.ConnectAsync(Path.Combine(_dir, ControlProtocol.ControlSocketName), Token);
    }

    private async Task<string> ReadSerialUntilAsync(string marker)
    {
        using var serial = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await serial.ConnectAsync(new UnixDomainSocketEndPoint(Path.Combine(_dir, ControlProtocol.SerialSocketName)), Token);
        var text = new StringBuilder();
        byte[] buffer = new byte[4096];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(Timeout);
        // The whole line: a checksum printed before the marker is complete once the marker's line is.
        while (!text.ToString().Contains(marker, StringComparison.Ordinal) ||
               text.ToString().IndexOf('\n', text.ToString().LastIndexOf(marker, StringComparison.Ordinal)) < 0)
        {
            int read = await serial.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            read.Should().BePositive();
            text.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return text.ToString();
    }

    /// <summary>Saves the screen with Debian's gvnccapture (a real libgvnc client) and reads the PNG back: its size and a pixel reader (0xRRGGBB).</summary>
    private async Task<(int Width, int Height, Func<int, int, uint> Pixel)> CaptureAsync(int port)
    {
        string png = Path.Combine(_dir, "screen.png");
        var (code, output) = await RunAsync("/usr/bin/gvnccapture", $"127.0.0.1:{port - 5900}", png);
        code.Should().Be(0, output);
        ImageResult image;
        using (var file = File.OpenRead(png))
        {
            image = ImageResult.FromStream(file, ColorComponents.RedGreenBlue);
        }

        return (image.Width, image.Height, (x, y) =>
        {
            int i = ((y * image.Width) + x) * 3;
            return (uint)(image.Data[i] << 16 | image.Data[i + 1] << 8 | image.Data[i + 2]);
        });
    }

    /// <summary>A loopback port free a moment ago (at or above 5900, as gvnccapture counts displays from there).</summary>
    private static int FreeLoopbackPort()
    {
        using var probe = VncLoopback.Listen();
        return VncLoopback.Port(probe);
    }

    private static async Task<(int Code, string Output)> RunAsync(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(Token);
        var stderr = process.StandardError.ReadToEndAsync(Token);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} did not finish: {await stdout} {await stderr}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
