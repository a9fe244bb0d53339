using System.Diagnostics;
using System.Text;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Net;

// --net bridge end to end: platform-vmm runs inside a network namespace the test creates with a bridge in it, makes
// its own TAP, joins it to the bridge, and the bridge's address pings the net test guest through it. The TAP is gone
// once the VMM ends.
public sealed class BridgeNetGuestTests
{
    private const string GuestIp = "10.0.3.15";
    private const string GuestMac = "52:54:00:03:00:15";

    [Fact]
    public async Task The_bridge_reaches_the_guest_through_a_tap_the_vmm_made_and_removed()
    {
        Assert.SkipUnless(NetworkNamespace.CanCreate, "needs root, /dev/net/tun and iproute2 to create a network namespace");
        using var ns = NetworkNamespace.CreateWithBridge("br0", "10.0.3.1/24");
        using var vmm = ns.StartInside(VmmProcess.ProgramPath, "--kernel", TestGuests.Path("net"), "--memory", "64M", "--display", "none",
            "--net", $"bridge=br0,mac={GuestMac}", "--append", $"ip={GuestIp} pings=3");
        var output = new StringBuilder();
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
            var (_, ports) = ns.Run("ip", "-o", "link", "show", "master", "br0");
            ports.Should().MatchRegex(@"ptap\d+", "the VMM's TAP is a port of the bridge").And.Contain("fe:54:00:03:00:15",
                "the TAP's own MAC is the guest's with FE first, so the bridge never takes it as its address");

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

        var (_, after) = ns.Run("ip", "-o", "link", "show");
        after.Should().NotMatchRegex(@"ptap\d+", "a TAP the VMM made ends with it");
        lock (output)
        {
            output.ToString().Should().Contain($"net: mac {GuestMac} ip {GuestIp} link up").And.Contain("PLATFORM-TEST net PASS");
        }
    }

    [Fact]
    public async Task A_bridge_that_does_not_exist_is_a_start_failure_that_names_it()
    {
        Assert.SkipUnless(NetworkNamespace.CanCreate, "needs root, /dev/net/tun and iproute2 to create a network namespace");
        using var ns = NetworkNamespace.CreateWithBridge("br0", "10.0.3.1/24");
        using var vmm = ns.StartInside(VmmProcess.ProgramPath, "--kernel", TestGuests.Path("net"), "--memory", "64M", "--display", "none",
            "--net", "bridge=nosuchbr");
        string stderr = await vmm.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await vmm.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        vmm.ExitCode.Should().Be(1);
        stderr.Should().Contain("There is no host bridge nosuchbr");
    }
}
