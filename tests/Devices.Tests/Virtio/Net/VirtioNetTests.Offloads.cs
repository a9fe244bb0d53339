using Platform.Devices.Virtio.Net;
using static Platform.Devices.Tests.Virtio.FakeBuffer;

namespace Platform.Devices.Tests.Virtio.Net;

// Transmit headers against the negotiated offloads: what was not agreed never reaches the backend.
public sealed partial class VirtioNetTests
{
    private const byte Gso = VirtioNetHeader.GsoTcpV4;

    public static TheoryData<string, byte, byte, ulong> OffloadsNotNegotiated => new()
    {
        { "NEEDS_CSUM without CSUM", VirtioNetHeader.FlagNeedsCsum, VirtioNetHeader.GsoNone, VirtioNet.FeatureCsum },
        { "TSO4 without HOST_TSO4", VirtioNetHeader.FlagNeedsCsum, Gso, VirtioNet.FeatureHostTso4 },
        { "TSO6, never offered by this backend", VirtioNetHeader.FlagNeedsCsum, VirtioNetHeader.GsoTcpV6, 0 },
        { "UFO, never offered by this backend", VirtioNetHeader.FlagNeedsCsum, VirtioNetHeader.GsoUdp, 0 },
        { "ECN without HOST_ECN", VirtioNetHeader.FlagNeedsCsum, Gso | VirtioNetHeader.GsoEcn, 0 },
        { "ECN without a segmentation", 0, VirtioNetHeader.GsoEcn, 0 },
        { "an unknown GSO type", VirtioNetHeader.FlagNeedsCsum, 2, 0 },
    };

    [Theory]
    [MemberData(nameof(OffloadsNotNegotiated))]
    public void A_frame_asking_for_an_offload_that_was_not_negotiated_is_dropped_and_counted(string what, byte flags, byte gsoType, ulong withheld)
    {
        _driver.Initialize(msix: true, OfferedBut(withheld), _rx, _tx);
        byte[] frame = WithHeader(Frame(100, 0xAB), flags);
        frame[1] = gsoType;
        _tx.AddChain(Readable(frame));
        _driver.Notify(VirtioNet.TransmitQueue);

        WaitForUsed(_tx, 1);
        _backend.Sent.Should().BeEmpty(what);
        _net.BadOffloadHeaders.Should().Be(1);
        _net.FramesDropped.Should().Be(1);
    }

    [Fact]
    public void Negotiated_offloads_pass_and_flag_bits_the_device_does_not_know_are_cleared()
    {
        _driver.Initialize(msix: true, null, _rx, _tx);
        byte[] frame = WithHeader(Frame(100, 0xAB), flags: VirtioNetHeader.FlagNeedsCsum | VirtioNetHeader.FlagDataValid | 0x80);
        frame[1] = Gso;
        _tx.AddChain(Readable(frame));
        _driver.Notify(VirtioNet.TransmitQueue);

        WaitForUsed(_tx, 1);
        byte[] sent = _backend.Sent.Should().ContainSingle().Subject;
        sent[0].Should().Be(VirtioNetHeader.FlagNeedsCsum);
        sent[1].Should().Be(Gso);
        sent.AsSpan(2).ToArray().Should().Equal(frame.AsSpan(2).ToArray());
    }

    [Fact]
    public void A_transmit_chain_with_a_header_and_no_Ethernet_header_is_dropped()
    {
        _driver.Initialize(msix: true, null, _rx, _tx);
        _tx.AddChain(Readable(WithHeader([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13])));
        _driver.Notify(VirtioNet.TransmitQueue);

        WaitForUsed(_tx, 1);
        _backend.Sent.Should().BeEmpty();
        _net.FramesDropped.Should().Be(1);
    }
}
