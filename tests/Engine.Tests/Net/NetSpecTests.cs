using Platform.Engine.Net;

namespace Platform.Engine.Tests.Net;

public sealed class NetSpecTests
{
    [Fact]
    public void A_tap_with_a_mac()
    {
        var nic = NetSpec.Parse("tap=tap0,mac=52:54:00:12:34:56");
        nic.EffectiveKind.Should().Be(NicKind.Tap);
        nic.Tap.Should().Be("tap0");
        nic.Mac.Should().Be("52:54:00:12:34:56");
    }

    [Fact]
    public void Without_a_mac_the_address_is_stable_for_the_tap_name_the_bridge_or_the_place()
    {
        string Mac(string spec, int index) => NicOptions.FormatMac(NicOptions.From(NetSpec.Parse(spec), index).Mac);

        Mac("tap=vm1-eth0", 0).Should().StartWith("52:54:00:").And.Be(Mac("tap=vm1-eth0", 3));
        Mac("tap=vm2-eth0", 0).Should().NotBe(Mac("tap=vm1-eth0", 0));
        Mac("user", 0).Should().Be(Mac("user", 0)).And.NotBe(Mac("user", 1));
        Mac("bridge=br0", 0).Should().NotBe(Mac("bridge=br1", 0)).And.NotBe(Mac("bridge=br0", 1));
    }

    [Fact]
    public void User_mode_takes_qemus_hostfwd_with_loopback_as_the_default_address()
    {
        var nic = NetSpec.Parse("user,mac=52:54:00:00:00:07,hostfwd=tcp:0.0.0.0:2222-:22,hostfwd=udp::5353-:53,hostfwd=[::1]:8080-:80");
        nic.EffectiveKind.Should().Be(NicKind.User);
        nic.Mac.Should().Be("52:54:00:00:00:07");
        nic.Forwards.Select(f => f.ToString()).Should().Equal("tcp:0.0.0.0:2222-:22", "udp:127.0.0.1:5353-:53", "tcp:[::1]:8080-:80");
    }

    [Fact]
    public void A_bridge_names_the_bridge()
    {
        var nic = NetSpec.Parse("bridge=vmbr0");
        nic.EffectiveKind.Should().Be(NicKind.Bridge);
        nic.Bridge.Should().Be("vmbr0");
        nic.Tap.Should().BeNull();
        nic.Vlan.Should().BeNull();
        NetSpec.Parse("bridge=vmbr0,vlan=4094").Vlan.Should().Be(4094);
    }

    [Theory]
    [InlineData("mac=52:54:00:12:34:56", "start with user, tap=NAME or bridge=BRIDGE")]
    [InlineData("tap=t0,mac=01:00:5e:00:00:01", "not a unicast MAC")]
    [InlineData("tap=t0,mac=00:00:00:00:00:00", "not a unicast MAC")]
    [InlineData("tap=t0,mac=52:54:00:12:34", "not a unicast MAC")]
    [InlineData("tap=t0,queues=4", "unknown option 'queues=4'")]
    [InlineData("tap=t0,hostfwd=tcp::1-:2", "unknown option 'hostfwd=tcp::1-:2'")]
    [InlineData("tap=t0,vlan=10", "unknown option 'vlan=10'")]
    [InlineData("bridge=br0,vlan=ten", "'ten' is not a VLAN id")]
    [InlineData("bridge=br0,vlan=-1", "'-1' is not a VLAN id")]
    [InlineData("user,hostfwd=tcp::2222", "not a port forward")]
    [InlineData("user,hostfwd=tcp::2222-10.0.2.15:22", "not a port forward")]
    [InlineData("user,hostfwd=tcp::0-:22", "not a port forward")]
    [InlineData("user,hostfwd=tcp::2222-:65536", "not a port forward")]
    [InlineData("user,hostfwd=sctp::2222-:22", "not a port forward")]
    [InlineData("user,hostfwd=tcp:example.org:2222-:22", "not a port forward")]
    public void Mistakes_are_named(string spec, string message)
    {
        var parse = () => NetSpec.Parse(spec);
        parse.Should().Throw<FormatException>().WithMessage($"*{message}*");
    }
}
