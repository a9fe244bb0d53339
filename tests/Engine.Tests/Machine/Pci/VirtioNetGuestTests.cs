using System.Diagnostics;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Machine.Pci;

// virtio-net over a real TAP: platform-vmm runs inside a network namespace the test creates, and the host side of the
// TAP pings the net test guest, which answers ARP and ICMP echo itself.
public sealed class VirtioNetGuestTests
{
    private const string GuestIp = "10.0.2.15";

    [Theory]
    [InlineData("msix")]
    [InlineData("intx")]
    public async Task The_host_pings_the_guest_over_a_TAP_in_its_own_namespace(string irq)
    {
        Assert.SkipUnless(NetworkNamespace.CanCreate, "needs root, /dev/net/tun and iproute2 to create a network namespace: run ./platform test as root, as CI does");
        using var ns = NetworkNamespace.Create("tap0", "10.0.2.2/24");
        using var vmm = ns.StartInside(VmmProcess.ProgramPath, "--kernel", TestGuests.Path("net"), "--memory", "64M",
            "--net", "tap=tap0,mac=52:54:00:12:34:56", "--append", $"ip={GuestIp} pings=3 irq={irq}");
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
        }
    }
}
