using Platform.Engine.Net;

namespace Platform.Engine.Tests.Net;

public sealed class NicOptionsTests
{
    [Fact]
    public void A_tap_with_a_mac()
    {
        var nic = NicOptions.Parse("tap=tap0,mac=52:54:00:12:34:56");
        nic.Tap.Should().Be("tap0");
        NicOptions.FormatMac(nic.Mac).Should().Be("52:54:00:12:34:56");
    }

    [Fact]
    public void Without_a_mac_the_address_is_stable_for_the_tap_name()
    {
        var first = NicOptions.Parse("tap=vm1-eth0");
        var again = NicOptions.Parse("tap=vm1-eth0");
        var other = NicOptions.Parse("tap=vm2-eth0");

        NicOptions.FormatMac(first.Mac).Should().StartWith("52:54:00:").And.Be(NicOptions.FormatMac(again.Mac));
        NicOptions.FormatMac(other.Mac).Should().NotBe(NicOptions.FormatMac(first.Mac));
    }

    [Theory]
    [InlineData("mac=52:54:00:12:34:56", "tap=NAME is required")]
    [InlineData("tap=", "not an interface name")]
    [InlineData("tap=a-name-that-is-too-long", "not an interface name")]
    [InlineData("tap=a/b", "not an interface name")]
    [InlineData("tap=t0,mac=01:00:5e:00:00:01", "not a unicast MAC")]
    [InlineData("tap=t0,mac=00:00:00:00:00:00", "not a unicast MAC")]
    [InlineData("tap=t0,mac=52:54:00:12:34", "not a unicast MAC")]
    [InlineData("tap=t0,mac=52:54:00:12:34:zz", "not a unicast MAC")]
    [InlineData("tap=t0,queues=4", "unknown option 'queues=4'")]
    public void Mistakes_are_named(string spec, string message)
    {
        var parse = () => NicOptions.Parse(spec);
        parse.Should().Throw<FormatException>().WithMessage($"*{message}*");
    }
}
