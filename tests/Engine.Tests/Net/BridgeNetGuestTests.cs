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
        await using (var guest = await NetGuest.StartAsync(ns, $"bridge=br0,mac={GuestMac}"))
        {
            var (_, ports) = ns.Run("ip", "-o", "link", "show", "master", "br0");
            ports.Should().MatchRegex(@"ptap\d+", "the VMM's TAP is a port of the bridge").And.Contain("fe:54:00:03:00:15",
                "the TAP's own MAC is the guest's with FE first, so the bridge never takes it as its address");

            await guest.PingAndPassAsync();
        }

        var (_, after) = ns.Run("ip", "-o", "link", "show");
        after.Should().NotMatchRegex(@"ptap\d+", "a TAP the VMM made ends with it");
    }

    [Fact]
    public async Task A_vlan_tag_puts_the_guest_on_that_vlan_only()
    {
        Assert.SkipUnless(NetworkNamespace.CanCreate, "needs root, /dev/net/tun and iproute2 to create a network namespace");
        using var ns = NetworkNamespace.CreateWithBridge("br0", "10.0.3.1/24");
        using var probe = NamespaceTapProbe.Attach(ns, "probe0", "br0");
        await using var guest = await NetGuest.StartAsync(ns, $"bridge=br0,mac={GuestMac},vlan=10");

        // Asked on VLAN 10, the guest answers on VLAN 10: its frames leave tagged, the tag taken off on the way in.
        probe.Send(ArpRequest(vlan: 10));
        var reply = await probe.ReceiveAsync(IsArpReplyFromGuest, TimeSpan.FromSeconds(10));
        reply.Should().NotBeNull("the guest on VLAN 10 answers an ARP request tagged 10");
        reply![12..16].Should().Equal([0x81, 0x00, 0x00, 10], "the reply carries VLAN 10's tag (TPID 0x8100, priority 0)");

        // Untagged or on another VLAN, the same question never reaches it.
        probe.Send(ArpRequest(vlan: null));
        probe.Send(ArpRequest(vlan: 20));
        (await probe.ReceiveAsync(IsArpReplyFromGuest, TimeSpan.FromSeconds(3))).Should().BeNull(
            "frames without VLAN 10's tag are not the guest's");
        var (pingExit, _) = ns.Run("busybox", "ping", "-c", "1", "-W", "2", GuestIp);
        pingExit.Should().NotBe(0, "the bridge's own address is untagged, so not on the guest's VLAN");

        probe.Send(ArpRequest(vlan: 10));
        (await probe.ReceiveAsync(IsArpReplyFromGuest, TimeSpan.FromSeconds(10))).Should().NotBeNull("VLAN 10 still reaches it afterwards");
    }

    /// <summary>Who has the guest's address? asked by 02:00:00:00:00:01 (10.0.3.2), broadcast, with an optional VLAN tag.</summary>
    private static byte[] ArpRequest(int? vlan)
    {
        byte[] sender = [0x02, 0, 0, 0, 0, 1];
        var frame = new List<byte>();
        frame.AddRange(Enumerable.Repeat((byte)0xFF, 6));
        frame.AddRange(sender);
        if (vlan is { } id)
        {
            frame.AddRange([0x81, 0x00, (byte)(id >> 8), (byte)id]);
        }

        frame.AddRange([0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 1]); // ARP, Ethernet/IPv4, request
        frame.AddRange(sender);
        frame.AddRange([10, 0, 3, 2]);
        frame.AddRange(new byte[6]);
        frame.AddRange([10, 0, 3, 15]);
        return [.. frame];
    }

    private static bool IsArpReplyFromGuest(byte[] frame)
    {
        int type = frame.Length > 18 && frame[12] == 0x81 && frame[13] == 0x00 ? 16 : 12;
        return frame.Length >= type + 10 && frame[type] == 0x08 && frame[type + 1] == 0x06 && frame[type + 9] == 2
            && frame.AsSpan(6, 6).SequenceEqual(new byte[] { 0x52, 0x54, 0x00, 0x03, 0x00, 0x15 });
    }

    /// <summary>The net test guest running in a VMM inside the namespace, with the bridge NIC <c>--net SPEC</c>, past READY.</summary>
    private sealed class NetGuest : IAsyncDisposable
    {
        private readonly NetworkNamespace _ns;
        private readonly Process _vmm;
        private readonly StringBuilder _output = new();
        private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private NetGuest(NetworkNamespace ns, Process vmm) => (_ns, _vmm) = (ns, vmm);

        public static async Task<NetGuest> StartAsync(NetworkNamespace ns, string netSpec)
        {
            var guest = new NetGuest(ns, ns.StartInside(VmmProcess.ProgramPath, "--kernel", TestGuests.Path("net"), "--memory", "64M",
                "--display", "none", "--net", netSpec, "--append", $"ip={GuestIp} pings=3"));
            guest._vmm.OutputDataReceived += (_, e) =>
            {
                lock (guest._output)
                {
                    guest._output.AppendLine(e.Data);
                }

                if (e.Data is "READY" || e.Data?.Contains("net FAIL", StringComparison.Ordinal) == true)
                {
                    guest._ready.TrySetResult();
                }
            };
            guest._vmm.BeginOutputReadLine();
            try
            {
                await guest._ready.Task.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
            }
            catch
            {
                await guest.DisposeAsync();
                throw;
            }

            return guest;
        }

        /// <summary>Pings the guest three times from the namespace; the guest passes and resets after the third.</summary>
        public async Task PingAndPassAsync()
        {
            var (pingExit, pingOutput) = _ns.Run("busybox", "ping", "-c", "3", "-W", "5", GuestIp);
            pingExit.Should().Be(0, pingOutput);
            pingOutput.Should().Contain("3 packets received");
            await _vmm.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            _vmm.ExitCode.Should().Be(2, "the guest resets after its verdict");
            lock (_output)
            {
                _output.ToString().Should().Contain($"net: mac {GuestMac} ip {GuestIp} link up").And.Contain("PLATFORM-TEST net PASS");
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_vmm.HasExited)
            {
                _vmm.Kill(entireProcessTree: true);
                await _vmm.WaitForExitAsync();
            }

            _vmm.Dispose();
        }
    }
}
