using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Platform.Devices.Virtio.Net;
using Platform.Engine.Net;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Net;

// --net user end to end: the nat test guest takes a DHCP lease from the passt our VMM starts, ARPs for and pings the
// router, reaches a UDP echo service on the host's loopback through the NAT, and answers a datagram a host port
// forward brings it; with v6=1 it learns the router and prefix by NDP and takes an IPv6 address by DHCPv6. The same guest runs under QEMU with the same passt (qemu-check.sh nat) as the reference.
public sealed class UserNetGuestTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>passt answers the guest's pings with ping sockets, which net.ipv4.ping_group_range must allow its group.</summary>
    private static void RequirePingSockets()
    {
        string[] range = File.ReadAllText("/proc/sys/net/ipv4/ping_group_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        long low = long.Parse(range[0], System.Globalization.CultureInfo.InvariantCulture);
        long high = long.Parse(range[1], System.Globalization.CultureInfo.InvariantCulture);
        (low <= 65534 && 65534 <= high).Should().BeTrue(
            $"passt (as nobody, gid 65534) needs ping sockets for the guest's ICMP; net.ipv4.ping_group_range is {low} {high} " +
            "(./platform sets it to 0 2147483647, systemd's default)");
    }

    /// <summary>passt offers the guest IPv6 (NDP, DHCPv6) only when the host has an IPv6 default route to copy.</summary>
    private static void RequireHostIpv6DefaultRoute()
    {
        // /proc/net/ipv6_route: destination, prefix length, ..., device; the default route is ::/0 on a real device
        // (the kernel keeps an unreachable ::/0 on lo).
        bool found = File.ReadAllLines("/proc/net/ipv6_route")
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Any(f => f.Length >= 10 && f[0].All(c => c == '0') && f[1] == "00" && f[9] != "lo");
        found.Should().BeTrue("passt disables IPv6 without an IPv6 default route on the host, so the guest would get no Router " +
                              "Advertisement; give the host one (ip -6 route add default via ... dev ...)");
    }

    /// <summary>The next hop of the host's IPv6 default route (/proc/net/ipv6_route), as 32 hex digits.</summary>
    private static string HostIpv6Gateway() =>
        File.ReadAllLines("/proc/net/ipv6_route")
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .First(f => f.Length >= 10 && f[0].All(c => c == '0') && f[1] == "00" && f[9] != "lo")[4];

    private static UdpClient EchoService(IPAddress? loopback = null)
    {
        var echo = new UdpClient(new IPEndPoint(loopback ?? IPAddress.Loopback, 0));
        _ = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    var datagram = await echo.ReceiveAsync();
                    await echo.SendAsync(datagram.Buffer, datagram.RemoteEndPoint);
                }
            }
            catch (ObjectDisposedException)
            {
            }
            catch (SocketException)
            {
            }
        });
        return echo;
    }

    private static int FreeUdpPort()
    {
        using var probe = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.Client.LocalEndPoint!).Port;
    }

    private static async Task WaitForAsync(ControlledVm vm, string text)
    {
        var deadline = Stopwatch.StartNew();
        while (!vm.Output.Contains(text, StringComparison.Ordinal))
        {
            if (vm.Output.Contains("PLATFORM-TEST nat FAIL", StringComparison.Ordinal) || deadline.Elapsed > Timeout)
            {
                throw new Xunit.Sdk.XunitException($"waiting for '{text}':\n{vm.Output}");
            }

            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    private static ControlledVm StartNat(string commandLine, params PortForwardConfig[] forwards) =>
        ControlledVm.Start("nat", commandLine, configure: c => c with
        {
            Nics = [NicOptions.From(new NicConfig { Kind = NicKind.User, Forwards = forwards }, 0)],
        });

    [Fact]
    public async Task The_guest_gets_a_lease_pings_the_router_reaches_a_host_service_and_answers_a_forwarded_port()
    {
        RequirePingSockets();
        using var echo = EchoService();
        int echoPort = ((IPEndPoint)echo.Client.LocalEndPoint!).Port;
        int hostPort = FreeUdpPort();
        await using var vm = StartNat($"echo={echoPort} fwd=7000",
            new PortForwardConfig { Protocol = ForwardProtocol.Udp, HostAddress = "127.0.0.1", HostPort = hostPort, GuestPort = 7000 });

        await WaitForAsync(vm, "READY-FWD");
        using var client = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        // UDP: a datagram may be dropped on the way (a loaded host once lost the first in a full test run), so the
        // host sends again each second, as a real client would, until the guest's answer comes.
        var receiving = client.ReceiveAsync(TestContext.Current.CancellationToken).AsTask();
        var sending = Stopwatch.StartNew();
        while (!receiving.IsCompleted && sending.Elapsed < Timeout)
        {
            await client.SendAsync(Encoding.ASCII.GetBytes("from-the-host"), new IPEndPoint(IPAddress.Loopback, hostPort), TestContext.Current.CancellationToken);
            await Task.WhenAny(receiving, Task.Delay(1000, TestContext.Current.CancellationToken));
        }

        var answer = await receiving.WaitAsync(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        Encoding.ASCII.GetString(answer.Buffer).Should().Be("fwd:from-the-host");

        (await vm.Run.WaitAsync(Timeout, TestContext.Current.CancellationToken)).Should().Be(VmmExitCode.GuestReset, "the guest resets after its verdict");
        string output = vm.Output;
        output.Should().MatchRegex(@"dhcp: lease \d+\.\d+\.\d+\.\d+ mask \d+\.\d+\.\d+\.\d+ router \d+\.\d+\.\d+\.\d+")
            .And.MatchRegex("arp: router [0-9a-f]{2}(:[0-9a-f]{2}){5}")
            .And.Contain("ping: reply")
            .And.Contain("udp: echo 'through-the-nat'")
            .And.Contain("fwd: got 'from-the-host'")
            .And.Contain("PLATFORM-TEST nat PASS");
    }

    [Fact]
    public async Task The_address_the_guest_took_shows_in_its_nics_stats()
    {
        await using var vm = StartNat("ping=0 end=halt");
        await WaitForAsync(vm, "PLATFORM-TEST nat PASS");
        string lease = System.Text.RegularExpressions.Regex.Match(vm.Output, @"dhcp: lease (\S+)").Groups[1].Value;

        var nic = vm.Host.GetStats().Devices.Single(d => d.Name == "net0");
        nic.Kind.Should().Be("virtio-net");
        nic.Addresses.Should().NotBeNull().And.Contain(lease);
        nic.Mac.Should().Be(NicOptions.FormatMac(NicOptions.From(new NicConfig { Kind = NicKind.User }, 0).Mac));
        nic.Counters["backend_restarts"].Should().Be(0);
    }

    [Fact]
    public async Task The_guest_gets_an_ipv6_address_through_dhcpv6_and_the_router_prefix_through_ndp()
    {
        RequireHostIpv6DefaultRoute();
        await using var vm = StartNat("ping=0 v6=1 end=halt");
        await WaitForAsync(vm, "PLATFORM-TEST nat PASS");
        string output = vm.Output;

        // The link-local address the guest solicits from is the MAC's modified EUI-64.
        byte[] mac = NicOptions.From(new NicConfig { Kind = NicKind.User }, 0).Mac.GetAddressBytes();
        byte[] linkLocal = [0xFE, 0x80, 0, 0, 0, 0, 0, 0, (byte)(mac[0] ^ 2), mac[1], mac[2], 0xFF, 0xFE, mac[3], mac[4], mac[5]];
        output.Should().MatchRegex(System.Text.RegularExpressions.Regex.Escape($"ndp: link-local {new IPAddress(linkLocal)}") + @"\r?\n");

        var ndp = System.Text.RegularExpressions.Regex.Match(output, @"ndp: router (\S+) prefix (\S+)/64\r?\n");
        ndp.Success.Should().BeTrue(output);
        var router = IPAddress.Parse(ndp.Groups[1].Value);
        var prefix = IPAddress.Parse(ndp.Groups[2].Value);
        router.IsIPv6LinkLocal.Should().BeTrue("a Router Advertisement comes from the router's link-local address");

        var dhcp = System.Text.RegularExpressions.Regex.Match(output, @"dhcpv6: address (\S+) dns (\S+)\r?\n");
        dhcp.Success.Should().BeTrue(output);
        var address = IPAddress.Parse(dhcp.Groups[1].Value);
        address.AddressFamily.Should().Be(AddressFamily.InterNetworkV6);
        address.GetAddressBytes()[..8].Should().Equal(prefix.GetAddressBytes()[..8], "the DHCPv6 address lies in the advertised prefix");
        // passt hands the guest the host's own address (the guest's traffic leaves from it), so the host has it.
        System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(i => i.GetIPProperties().UnicastAddresses).Select(u => u.Address)
            .Should().Contain(address, "passt assigns the address the host has on its default route's interface");
        output.Should().MatchRegex(System.Text.RegularExpressions.Regex.Escape($"ndp: announced {address}") + @"\r?\n");

        // The guest sent from the address (its unsolicited Neighbor Advertisement), so query-stats shows it with the lease.
        string lease = System.Text.RegularExpressions.Regex.Match(output, @"dhcp: lease (\S+)").Groups[1].Value;
        vm.Host.GetStats().Devices.Single(d => d.Name == "net0").Addresses.Should().BeEquivalentTo(new[] { lease, address.ToString() });
    }

    [Fact]
    public async Task Ipv6_traffic_crosses_the_nat_a_ping_to_the_router_and_udp_to_the_host_s_ipv6_loopback()
    {
        RequireHostIpv6DefaultRoute();
        RequirePingSockets(); // the same sysctl governs ICMPv6 ping sockets
        using var echo = EchoService(IPAddress.IPv6Loopback);
        int echoPort = ((IPEndPoint)echo.Client.LocalEndPoint!).Port;
        // passt maps its IPv6 gateway, the host's own default gateway, to the host; the guest is told it.
        string gateway = HostIpv6Gateway();
        await using var vm = StartNat($"ping=0 v6=1 ping6=1 echo6={echoPort} host6={gateway} end=halt");

        await WaitForAsync(vm, "PLATFORM-TEST nat PASS");
        string output = vm.Output;
        output.Should().Contain("ping6: reply", "passt answers an ICMPv6 echo to the router through a ping socket on the host")
            .And.Contain("udp6: echo 'through-the-nat-v6'", "a datagram to passt's gateway address reaches the host's [::1] and its answer comes back")
            .And.NotContain("PLATFORM-TEST nat FAIL");
        // The answer comes from the router: Debian 12's passt (2023-03) sends what comes back from the host's loopback
        // from its link-local address, not from the gateway address the guest wrote to (later passt tracks flows and
        // answers from that address, which a guest's connected socket needs). Frames are only carried by the VMM, so
        // QEMU with the same passt sees the same (qemu-check.sh nat).
        var router = IPAddress.Parse(System.Text.RegularExpressions.Regex.Match(output, @"ndp: router (\S+) prefix").Groups[1].Value);
        var from = IPAddress.Parse(System.Text.RegularExpressions.Regex.Match(output, @"udp6: from (\S+)\r?\n").Groups[1].Value);
        from.Should().BeOneOf([router, new IPAddress(Convert.FromHexString(gateway))], output);
    }

    [Fact]
    public async Task A_passt_that_dies_is_started_again_and_the_guest_carries_on()
    {
        using var echo = EchoService();
        int echoPort = ((IPEndPoint)echo.Client.LocalEndPoint!).Port;
        // fwd: the guest waits there after its echo, which keeps it running while the test kills passt under it.
        await using var vm = StartNat($"ping=0 echo={echoPort} fwd=7000 timeout=30000");
        await WaitForAsync(vm, "READY-FWD");
        var passt = (PasstBackend)((VirtioNet)vm.Host.Current!.PciDevices.Virtio.Single(v => v.Name == "net0").Device).Backend;
        int firstPid = passt.ProcessId;
        var events = new System.Collections.Concurrent.ConcurrentQueue<Platform.Engine.Host.VmmEvent>();
        vm.Host.Event += events.Enqueue;

        Process.GetProcessById(firstPid).Kill();
        var restarted = Stopwatch.StartNew();
        while (passt.Restarts == 0 && restarted.Elapsed < Timeout)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        passt.Restarts.Should().Be(1, "the socket's hang-up wakes the device, which starts a new passt");
        passt.ProcessId.Should().NotBe(firstPid);
        passt.LastError.Should().Contain("passt closed the connection").And.Contain("signal 9");
        vm.Host.GetStats().Devices.Single(d => d.Name == "net0").Counters["backend_restarts"].Should().Be(1);
        File.ReadAllText($"/proc/{passt.ProcessId}/comm").Should().StartWith("passt");
        events.Should().ContainSingle(e => e.Kind == VmmEventKind.NicBackendRestarted, "the control plane hears of the restart")
            .Which.Detail.Should().StartWith("net0: passt closed the connection").And.EndWith("started passt again (restart 1)");
    }

    [Fact]
    public async Task A_reboot_keeps_the_nics_passt_and_the_next_boot_reaches_the_host_through_it_again()
    {
        using var echo = EchoService();
        int echoPort = ((IPEndPoint)echo.Client.LocalEndPoint!).Port;
        // The guest resets after its verdict; with the restart policy it boots again and runs the same steps.
        await using var vm = ControlledVm.Start("nat", $"ping=0 echo={echoPort}", RebootPolicy.Restart, configure: c => c with
        {
            Nics = [NicOptions.From(new NicConfig { Kind = NicKind.User }, 0)],
        });
        await WaitForAsync(vm, "dhcp: lease");
        // The guest may be between two boots already (it resets soon after its lease), when no machine is current.
        PasstBackend? passt;
        var looking = Stopwatch.StartNew();
        while ((passt = vm.Host.Current?.PciDevices.Virtio.Single(v => v.Name == "net0").Device is VirtioNet net ? (PasstBackend)net.Backend : null) is null)
        {
            looking.Elapsed.Should().BeLessThan(Timeout, "a boot comes after the reset");
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }

        int pid = passt.ProcessId;

        var deadline = Stopwatch.StartNew();
        while (CountOf(vm.Output, "PLATFORM-TEST nat PASS") < 2)
        {
            vm.Output.Should().NotContain("PLATFORM-TEST nat FAIL");
            deadline.Elapsed.Should().BeLessThan(2 * Timeout, vm.Output);
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        vm.Host.Boots.Should().BeGreaterThanOrEqualTo(2);
        CountOf(vm.Output, "udp: echo 'through-the-nat'").Should().BeGreaterThanOrEqualTo(2, "the second boot reached the host service too");
        passt.ProcessId.Should().Be(pid, "the backend outlives the boot: the same passt serves the next one (a jailed VMM could not start another)");
        passt.Restarts.Should().Be(0);
        File.ReadAllText($"/proc/{pid}/comm").Should().StartWith("passt");
    }

    private static int CountOf(string text, string what)
    {
        int count = 0;
        for (int at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    [Fact]
    public async Task Qemu_with_the_same_passt_runs_the_same_guest()
    {
        RequirePingSockets();
        string script = Path.Combine(TestGuests.RepositoryRoot, "tests", "guests", "qemu-check.sh");
        var start = new ProcessStartInfo("bash", [script, "nat"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var qemu = Process.Start(start)!;
        string output = await qemu.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await qemu.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(120), TestContext.Current.CancellationToken);
        qemu.ExitCode.Should().Be(0, output);
        output.Should().Contain("ok   nat").And.Contain("0 failure(s)");
    }
}
