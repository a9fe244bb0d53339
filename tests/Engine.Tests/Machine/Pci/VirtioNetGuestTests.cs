using System.Diagnostics;
using System.Globalization;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Machine.Pci;

// virtio-net over a real TAP: platform-vmm runs inside a network namespace the test creates, and the host side of the
// TAP pings the net test guest, which answers ARP and ICMP echo itself.
public sealed class VirtioNetGuestTests
{
    private const string GuestIp = "10.0.2.15";

    [Theory]
    [InlineData("msix", "")]
    [InlineData("intx", "")]
    [InlineData("msix", "mrg=1 ctrl=1")] // mergeable buffers, and the receive filter set to our MAC and broadcasts
    public async Task The_host_pings_the_guest_over_a_TAP_in_its_own_namespace(string irq, string features)
    {
        Assert.SkipUnless(NetworkNamespace.CanCreate, "needs root, /dev/net/tun and iproute2 to create a network namespace: run ./platform test as root, as CI does");
        using var ns = NetworkNamespace.Create("tap0", "10.0.2.2/24");
        using var vmm = ns.StartInside(VmmProcess.ProgramPath, "--kernel", TestGuests.Path("net"), "--memory", "64M",
            "--net", "tap=tap0,mac=52:54:00:12:34:56", "--append", $"ip={GuestIp} pings=3 irq={irq} {features}");
        var output = new System.Text.StringBuilder();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        vmm.OutputDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (e.Data is "READY" || e.Data?.Contains("net FAIL", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        vmm.BeginOutputReadLine();
        try
        {
            await ready.Task.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
            var (pingExit, pingOutput) = ns.Run("busybox", "ping", "-c", "3", "-W", "5", GuestIp);

            pingExit.Should().Be(0, pingOutput);
            pingOutput.Should().Contain("3 packets received");
            await vmm.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            vmm.ExitCode.Should().Be(2, "the guest resets after its verdict");
        }
        finally
        {
            if (!vmm.HasExited)
            {
                vmm.Kill(entireProcessTree: true);
            }
        }

        lock (output)
        {
            output.ToString().Should().Contain("net: mac 52:54:00:12:34:56 ip 10.0.2.15 link up")
                .And.Contain("reply 3").And.Contain("PLATFORM-TEST net PASS");
            if (features.Contains("ctrl=1", StringComparison.Ordinal))
            {
                output.ToString().Should().Contain("net: promiscuous mode off, MAC table empty");
            }
        }
    }

    [Fact]
    public async Task The_bench_guest_floods_the_TAP_with_frames_the_host_counts()
    {
        Assert.SkipUnless(NetworkNamespace.CanCreate, "needs root, /dev/net/tun and iproute2 to create a network namespace");
        using var ns = NetworkNamespace.Create("tap0", "10.0.2.2/24");
        var (exitCode, output) = await RunBenchGuestAsync(ns, "mode=tx size=1514 frames=20000", () => { });

        exitCode.Should().Be(2, output);
        output.Should().Contain("PLATFORM-TEST netbench PASS");
        var sent = System.Text.RegularExpressions.Regex.Match(output, @"netbench: (\d+) frames sent");
        sent.Success.Should().BeTrue(output);
        long guestSent = long.Parse(sent.Groups[1].Value, CultureInfo.InvariantCulture);
        guestSent.Should().BeGreaterThanOrEqualTo(20000, "the guest stops at the first count past what it was asked for");
        long.Parse(ns.Run("cat", "/sys/class/net/tap0/statistics/rx_packets").Output.Trim(), CultureInfo.InvariantCulture)
            .Should().BeGreaterThanOrEqualTo(guestSent, "every frame the guest sent reached the TAP");
    }

    [Fact]
    public async Task The_bench_guest_sinks_the_frames_the_host_sends()
    {
        Assert.SkipUnless(NetworkNamespace.CanCreate, "needs root, /dev/net/tun and iproute2 to create a network namespace");
        using var ns = NetworkNamespace.Create("tap0", "10.0.2.2/24");
        // The sink answers nothing, so the host's ARP requests for the guest (broadcasts) keep coming.
        var (exitCode, output) = await RunBenchGuestAsync(ns, "mode=rx frames=3", () => ns.Run("busybox", "ping", "-c", "8", "-W", "1", GuestIp));

        exitCode.Should().Be(2, output);
        output.Should().MatchRegex(@"netbench: 0 frames sent, ([3-9]|\d\d+) received").And.Contain("PLATFORM-TEST netbench PASS");
    }

    /// <summary>Runs the netbench guest in <paramref name="ns"/> until it ends, calling <paramref name="whileRunning"/> once it is READY.</summary>
    private static async Task<(int ExitCode, string Output)> RunBenchGuestAsync(NetworkNamespace ns, string append, Action whileRunning)
    {
        using var vmm = ns.StartInside(VmmProcess.ProgramPath, "--kernel", TestGuests.Path("netbench"), "--memory", "64M",
            "--net", "tap=tap0,mac=52:54:00:12:34:56", "--append", append);
        var output = new System.Text.StringBuilder();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        vmm.OutputDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (e.Data is "READY" || e.Data?.Contains("netbench FAIL", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        vmm.BeginOutputReadLine();
        try
        {
            await ready.Task.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
            var sender = Task.Run(whileRunning, TestContext.Current.CancellationToken);
            await vmm.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
            await sender;
        }
        finally
        {
            if (!vmm.HasExited)
            {
                vmm.Kill(entireProcessTree: true);
            }
        }

        lock (output)
        {
            return (vmm.ExitCode, output.ToString());
        }
    }
}
