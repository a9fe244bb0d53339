using Platform.Web.Services.CloudInit;
using Platform.Web.Services.Networks;

namespace Platform.Web.Tests.Services.CloudInit;

/// <summary>
/// Static addresses for cloud-init's network-config: each problem named by its field (<c>networks[i].ipv4Address</c>…),
/// checked against the address's own subnet and, on a network whose subnet is known, against that one.
/// </summary>
public sealed class CloudInitNetworkRulesTests
{
    private static readonly CloudInitNicFacts OnNat = new(0, "default");
    private static readonly CloudInitNicFacts OnLan = new(1, "lan", "192.168.10.0/24", "192.168.10.1");

    private static Dictionary<string, string[]> Check(params CloudInitNicInput[] networks) => Check([OnNat, OnLan], networks);

    private static Dictionary<string, string[]> Check(IReadOnlyList<CloudInitNicFacts>? nics, params CloudInitNicInput[] networks)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        CloudInitNetworkRules.Validate(networks, nics, (key, problem) => errors[key] = errors.TryGetValue(key, out var list) ? [.. list, problem] : [problem]);
        return errors;
    }

    private static CloudInitNicInput Static(int position, string? v4, string? gateway = null, string[]? dns = null, string? v6 = null, string? gateway6 = null) => new()
    {
        Position = position, Mode = CloudInitNicMode.Static, Ipv4Address = v4, Ipv4Gateway = gateway, DnsServers = dns is null ? null : [.. dns],
        Ipv6Address = v6, Ipv6Gateway = gateway6,
    };

    [Fact]
    public void Sound_static_addresses_and_dhcp_pass()
    {
        Check(
            Static(0, "10.0.2.20/24", "10.0.2.2", ["10.0.2.3", "2001:4860:4860::8888"], "2001:db8::20/64", "fe80::1"),
            Static(1, "192.168.10.20/24", "192.168.10.1", ["192.168.10.1"], "2001:db8:10::20/64", "2001:db8:10::1"))
            .Should().BeEmpty();
        Check(new CloudInitNicInput { Position = 0 }, new CloudInitNicInput { Position = 1, Ipv4Address = "nonsense" })
            .Should().BeEmpty("a DHCP NIC's address fields are not used");
        Check(Static(0, "172.16.0.1/31")).Should().BeEmpty("a /31 link has no network or broadcast address (RFC 3021)");
    }

    [Theory]
    [InlineData(null, "needs its IPv4 address with the prefix length")]
    [InlineData("192.168.1.20", "192.168.1.20 is not an IPv4 address with a prefix length")]
    [InlineData("192.168.1.300/24", "is not an IPv4 address with a prefix length")]
    [InlineData("10.1/8", "is not an IPv4 address with a prefix length")]
    [InlineData("192.168.1.20/33", "is not an IPv4 address with a prefix length")]
    [InlineData("2001:db8::1/64", "is not an IPv4 address with a prefix length")]
    [InlineData("192.168.1.0/24", "192.168.1.0 is the network address of 192.168.1.0/24")]
    [InlineData("192.168.1.255/24", "192.168.1.255 is the broadcast address of 192.168.1.0/24")]
    public void A_bad_ipv4_address_is_named_with_the_reason(string? address, string message)
    {
        var errors = Check(Static(0, address));

        errors.Keys.Should().Equal("networks[0].ipv4Address");
        errors["networks[0].ipv4Address"].Single().Should().Contain(message);
    }

    [Theory]
    [InlineData("10.0.3.1", "10.0.3.1 is not in 10.0.2.0/24, the subnet of ipv4Address 10.0.2.20/24")]
    [InlineData("10.0.2.20", "cannot be the NIC's own address")]
    [InlineData("10.0.2.1/24", "is not an IPv4 address (a gateway is an address alone")]
    [InlineData("fe80::1", "is not an IPv4 address")]
    [InlineData("10.0.2.255", "is the network or broadcast address of 10.0.2.0/24")]
    public void A_gateway_outside_the_subnet_or_malformed_is_named(string gateway, string message)
    {
        var errors = Check(Static(0, "10.0.2.20/24", gateway));

        errors.Keys.Should().Equal("networks[0].ipv4Gateway");
        errors["networks[0].ipv4Gateway"].Single().Should().Contain(message);
    }

    [Fact]
    public void Dns_servers_are_addresses_and_at_most_three()
    {
        Check(Static(0, "10.0.2.20/24", dns: ["10.0.2.3", "dns.example.org"]))["networks[0].dnsServers"]
            .Should().ContainSingle().Which.Should().Contain("dns.example.org is not an IP address");
        Check(Static(0, "10.0.2.20/24", dns: ["1.1.1.1", "8.8.8.8", "9.9.9.9", "10.0.2.3"]))["networks[0].dnsServers"]
            .Should().ContainSingle().Which.Should().Contain("At most 3 DNS servers");
    }

    [Fact]
    public void Ipv6_needs_a_prefix_and_a_reachable_gateway()
    {
        Check(Static(0, "10.0.2.20/24", v6: "2001:db8::20"))["networks[0].ipv6Address"].Single().Should().Contain("not an IPv6 address with a prefix length");
        Check(Static(0, "10.0.2.20/24", v6: "2001:db8::20/64", gateway6: "2001:db9::1"))["networks[0].ipv6Gateway"].Single()
            .Should().Contain("is not in 2001:db8::/64");
        Check(Static(0, "10.0.2.20/24", gateway6: "fe80::1"))["networks[0].ipv6Gateway"].Single().Should().Contain("needs the NIC's IPv6 address");
    }

    [Theory]
    [InlineData("192.168.11.20/24", "192.168.11.20 is not in lan's subnet 192.168.10.0/24, where this NIC is")]
    [InlineData("192.168.10.20/16", "lan's subnet is 192.168.10.0/24: give the address with /24 (192.168.10.20/24)")]
    [InlineData("192.168.10.1/24", "192.168.10.1 is the gateway of lan")]
    [InlineData("192.168.10.255/24", "broadcast address of 192.168.10.0/24")]
    public void On_a_network_with_a_known_subnet_the_address_must_fit_it(string address, string message)
    {
        var errors = Check(Static(1, address));

        errors.Keys.Should().Equal("networks[0].ipv4Address");
        errors["networks[0].ipv4Address"].Single().Should().Contain(message);
    }

    [Fact]
    public void Where_the_subnet_is_not_known_only_the_addresss_own_subnet_is_checked()
    {
        Check(Static(0, "192.168.11.20/16", "192.168.10.1")).Should().BeEmpty("the NAT network's subnet is not known");
    }

    [Fact]
    public void Entries_name_nics_the_vm_has_once_each()
    {
        var errors = Check(Static(0, "10.0.2.20/24"), Static(0, "10.0.2.21/24"), Static(5, "10.0.2.22/24"));

        errors["networks[1].position"].Single().Should().Be("NIC 0 is given twice.");
        errors["networks[2].position"].Single().Should().Be("The VM has no NIC 5: its NICs are numbered 0 to 1.");
        Check(Array.Empty<CloudInitNicFacts>(), Static(0, "10.0.2.20/24"))["networks[0].position"].Single().Should().Be("The VM has no NICs.");
        Check((IReadOnlyList<CloudInitNicFacts>?)null, Static(5, "10.0.2.20/24")).Should().BeEmpty("without the VM's NICs, positions are not checked");
    }

    [Fact]
    public void The_settings_report_network_problems_under_their_field()
    {
        var input = new CloudInitInput { UserName = "alice", Password = "pw-alice", Networks = [Static(0, "10.0.2.20/24", "10.9.9.9")] };

        CloudInitRules.Validate(input, passwordHashKept: false, [OnNat]).Keys.Should().Equal("networks[0].ipv4Gateway");
    }

    [Theory]
    [InlineData("192.168.10.0/24", "192.168.10.1", null, null)]
    [InlineData("2001:db8:10::/64", "2001:db8:10::1", null, null)]
    [InlineData("192.168.10.5/24", null, "subnet", "Give the subnet by its network address: 192.168.10.0/24")]
    [InlineData("192.168.10.0", null, "subnet", "is not a subnet")]
    [InlineData("192.168.10.0/24", "192.168.11.1", "gateway", "192.168.11.1 is not in the subnet 192.168.10.0/24")]
    [InlineData("192.168.10.0/24", "2001:db8::1", "gateway", "is not an IPv4 address like the subnet's")]
    [InlineData(null, "192.168.10.1", "gateway", "Give the subnet too")]
    public void A_networks_subnet_and_gateway_are_checked(string? subnet, string? gateway, string? field, string? message)
    {
        var problems = NetworkRules.CheckSubnet(subnet, gateway).ToList();

        if (field is null)
        {
            problems.Should().BeEmpty();
        }
        else
        {
            problems.Should().ContainSingle().Which.Field.Should().Be(field);
            problems[0].Message.Should().Contain(message);
        }
    }

    [Fact]
    public void Ip_prefixes_keep_their_host_bits_and_know_their_subnet()
    {
        IpPrefix.TryParse("192.168.10.20/24", out var v4).Should().BeTrue();
        (v4.Subnet.ToString(), v4.Broadcast.ToString(), v4.ToString()).Should().Be(("192.168.10.0/24", "192.168.10.255", "192.168.10.20/24"));
        IpPrefix.TryParse("2001:0db8::0020/64", out var v6).Should().BeTrue();
        v6.ToString().Should().Be("2001:db8::20/64");
        IpPrefix.TryParse("fe80::1%eth0/64", out _).Should().BeFalse("a zone is the guest's business");
        IpPrefix.TryParseAddress("10.1", out _).Should().BeFalse("inet_aton shorthand");
        IpPrefix.TryParseAddress("::ffff:10.0.0.1", out _).Should().BeFalse();
    }
}
