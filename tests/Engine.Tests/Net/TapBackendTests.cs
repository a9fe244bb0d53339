using Platform.Devices.Virtio.Net;
using Platform.Engine.Net;

namespace Platform.Engine.Tests.Net;

// A real TAP in the host's namespace, created by TUNSETIFF and gone when closed (not persistent). Needs CAP_NET_ADMIN.
public sealed class TapBackendTests
{
    // <linux/if_tun.h>, written out here so the test reads the kernel's answer against its own numbers.
    private const uint IffTap = 0x0002, IffNoPi = 0x1000, IffVnetHdr = 0x4000;

    [Fact]
    public void A_new_tap_carries_virtio_net_headers_and_offers_the_offloads()
    {
        Assert.SkipUnless(Environment.UserName == "root", "creating a TAP needs CAP_NET_ADMIN: run the tests as root, as CI does");
        string name = "ptest" + Environment.ProcessId % 100000;

        using var tap = TapBackend.Open(name);

        tap.HasVirtioHeader.Should().BeTrue();
        // What the kernel was asked for, as it reports it: without IFF_VNET_HDR every frame would lose its first 12 bytes.
        uint flags = Convert.ToUInt32(File.ReadAllText($"/sys/class/net/{name}/tun_flags").Trim(), 16);
        (flags & (IffTap | IffNoPi | IffVnetHdr)).Should().Be(IffTap | IffNoPi | IffVnetHdr, $"tun_flags is 0x{flags:x}");
        ulong expected = VirtioNet.FeatureCsum | VirtioNet.FeatureHostTso4 | VirtioNet.FeatureGuestCsum | VirtioNet.FeatureGuestTso4;
        (tap.SupportedOffloads & expected).Should().Be(expected);
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
