using Platform.Web.Services.Vms;

namespace Platform.Web.Tests.Services.Vms;

public sealed class MacAddressesTests
{
    [Fact]
    public void Generated_addresses_are_in_the_52_54_00_prefix_unicast_locally_administered_and_differ()
    {
        var generated = Enumerable.Range(0, 200).Select(_ => MacAddresses.Generate()).ToList();
        generated.Should().AllSatisfy(mac =>
        {
            mac.Should().MatchRegex("^52:54:00:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$");
            MacAddresses.Check(mac, out string normalized).Should().BeNull();
            normalized.Should().Be(mac);
        });
        byte first = Convert.ToByte(generated[0][..2], 16);
        (first & 0x02).Should().Be(0x02, "the locally administered bit is set");
        (first & 0x01).Should().Be(0, "the multicast bit is clear");
        generated.Distinct().Count().Should().BeGreaterThan(190, "24 random bits rarely repeat in 200 draws");
    }

    [Theory]
    [InlineData("52:54:00:AB:cd:01", "52:54:00:ab:cd:01")]
    [InlineData("02-00-00-00-00-01", "02:00:00:00:00:01")]
    [InlineData(" 00:16:3e:00:00:10 ", "00:16:3e:00:00:10")]
    public void Normalizes_valid_unicast_addresses_to_lower_case_colons(string input, string expected)
    {
        MacAddresses.Check(input, out string normalized).Should().BeNull();
        normalized.Should().Be(expected);
    }

    [Theory]
    [InlineData("01:00:5e:00:00:01", "multicast")]
    [InlineData("ff:ff:ff:ff:ff:ff", "multicast")]
    [InlineData("00:00:00:00:00:00", "not a usable")]
    [InlineData("52:54:00:12:34", "six pairs")]
    [InlineData("52:54:00:12:34:5", "six pairs")]
    [InlineData("52:54:00:12:34:zz", "not a hex octet")]
    [InlineData("525400123456", "six pairs")]
    public void Refuses_bad_addresses_saying_why(string input, string reason) =>
        MacAddresses.Check(input, out _).Should().Contain(reason);
}
