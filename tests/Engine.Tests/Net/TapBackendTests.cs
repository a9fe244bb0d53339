using Platform.Devices.Virtio.Net;
using Platform.Engine.Net;

namespace Platform.Engine.Tests.Net;

// A real TAP in the host's namespace, created by TUNSETIFF and gone when closed (not persistent). Needs CAP_NET_ADMIN.
public sealed class TapBackendTests
{
    [Fact]
    public void A_new_tap_carries_virtio_net_headers_and_offers_the_offloads()
    {
        Assert.SkipUnless(Environment.UserName == "root", "creating a TAP needs CAP_NET_ADMIN");
        string name = "ptest" + Environment.ProcessId % 100000;

        using var tap = TapBackend.Open(name);

        tap.HasVirtioHeader.Should().BeTrue();
        ulong expected = VirtioNet.FeatureCsum | VirtioNet.FeatureHostTso4 | VirtioNet.FeatureGuestCsum | VirtioNet.FeatureGuestTso4;
        (tap.SupportedOffloads & expected).Should().Be(expected);
        File.Exists($"/sys/class/net/{name}/tun_flags").Should().BeTrue();
        tap.PeekFrame().IsEmpty.Should().BeTrue("nothing arrives on an interface that is down, and the read does not block");
        tap.Send(new byte[VirtioNet.HeaderSize + 60]).Should().BeFalse("a TAP that is down refuses frames");
        tap.SendFailures.Should().Be(1);
    }

    [Fact]
    public void Guest_offloads_map_to_TUN_flags_only_with_checksum_offload()
    {
        TapBackend.TunOffloadFlags(VirtioNet.FeatureGuestTso4).Should().Be(0);
        TapBackend.TunOffloadFlags(VirtioNet.FeatureGuestCsum).Should().Be(0x01);
        TapBackend.TunOffloadFlags(VirtioNet.FeatureGuestCsum | VirtioNet.FeatureGuestTso4 | VirtioNet.FeatureGuestTso6 | VirtioNet.FeatureGuestEcn)
            .Should().Be(0x0F);
    }

    [Fact]
    public void A_bad_name_is_refused_before_any_system_call()
    {
        var open = () => TapBackend.Open("no/slashes");
        open.Should().Throw<IOException>().WithMessage("*not a network interface name*");
    }
}
