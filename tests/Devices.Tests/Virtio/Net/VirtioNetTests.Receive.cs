using System.Buffers.Binary;
using Platform.Devices.Virtio;
using Platform.Devices.Virtio.Net;
using static Platform.Devices.Tests.Virtio.FakeBuffer;

namespace Platform.Devices.Tests.Virtio.Net;

// Receiving: mergeable buffers (VIRTIO_NET_F_MRG_RXBUF) and not, chains without room, headers the guest may not get.
public sealed partial class VirtioNetTests
{
    /// <summary>The header and payload the guest got for a frame spread over the used elements from <paramref name="first"/>.</summary>
    private static (byte[] Header, byte[] Payload) ReadMerged(FakeVirtQueue queue, int first, int count)
    {
        var bytes = new List<byte>();
        for (int i = first; i < first + count; i++)
        {
            var (head, length) = queue.Used(i);
            bytes.AddRange(queue.ReadBuffer(head, (int)length));
        }

        return (bytes.Take(12).ToArray(), bytes.Skip(12).ToArray());
    }

    [Fact]
    public void With_mergeable_buffers_a_frame_larger_than_one_buffer_spans_several_and_num_buffers_counts_them()
    {
        _driver.Initialize(msix: true, null, _rx, _tx);
        for (int i = 0; i < 4; i++)
        {
            _rx.AddChain(Writable(1536));
        }

        byte[] frame = Frame(4000, 0x5A); // 12 + 4014 bytes: three buffers of 1536
        _backend.Deliver(WithHeader(frame));
        _driver.Notify(VirtioNet.ReceiveQueue);

        WaitForUsed(_rx, 3);
        _rx.Used(0).Length.Should().Be(1536);
        _rx.Used(1).Length.Should().Be(1536);
        _rx.Used(2).Length.Should().Be(12 + (uint)frame.Length - 3072);
        var (header, payload) = ReadMerged(_rx, 0, 3);
        BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(10)).Should().Be(3, "num_buffers");
        payload.Should().Equal(frame);
        _net.FramesReceived.Should().Be(1);
        _net.FramesMerged.Should().Be(1);
        _net.BytesReceived.Should().Be(frame.Length);
    }

    [Fact]
    public void A_merged_frame_waits_in_the_backend_until_the_guest_has_posted_enough_buffers()
    {
        _driver.Initialize(msix: true, null, _rx, _tx);
        _rx.AddChain(Writable(1024));
        _driver.Notify(VirtioNet.ReceiveQueue);
        byte[] frame = Frame(2500, 0x77);
        _backend.Deliver(WithHeader(frame));
        SpinWait.SpinUntil(() => _rx.AvailEvent == 1, TimeSpan.FromSeconds(10)).Should().BeTrue("the device looked and asked to hear of more buffers");
        _rx.UsedIndex.Should().Be(0, "half a frame is never shown to the driver");
        _backend.Pending.Should().Be(1);

        _rx.AddChain(Writable(1024));
        _rx.AddChain(Writable(1024));
        _driver.Notify(VirtioNet.ReceiveQueue);

        WaitForUsed(_rx, 3);
        var (header, payload) = ReadMerged(_rx, 0, 3);
        header[10].Should().Be(3);
        payload.Should().Equal(frame);
        // The device thread publishes the used entries, then tells the backend the frame is consumed: wait for both.
        SpinWait.SpinUntil(() => _backend.Pending == 0, TimeSpan.FromSeconds(10)).Should().BeTrue("the frame left the backend");
        _net.FramesDropped.Should().Be(0);
    }

    [Fact]
    public void A_merged_frame_that_a_full_ring_cannot_hold_is_dropped_and_its_chains_returned_empty()
    {
        var small = new FakeVirtQueue(_memory, 4, 0x380000);
        _driver.Initialize(msix: true, null, small, _tx);
        for (int i = 0; i < 4; i++)
        {
            small.AddChain(Writable(64));
        }

        _driver.Notify(VirtioNet.ReceiveQueue);
        _backend.Deliver(WithHeader(Frame(1000, 0x01)));

        WaitForUsed(small, 4);
        Enumerable.Range(0, 4).Select(i => small.Used(i).Length).Should().AllBeEquivalentTo(0u);
        _net.FramesDropped.Should().Be(1);
        _backend.Pending.Should().Be(0, "the NIC moves on to the next frame instead of waiting for buffers that cannot come");
        _driver.Status.Should().NotHaveFlag(VirtioDeviceStatus.DeviceNeedsReset);
    }

    [Fact]
    public void With_mergeable_buffers_a_chain_without_room_for_the_header_is_returned_empty_after_the_frame()
    {
        _driver.Initialize(msix: true, null, _rx, _tx);
        ushort tiny = _rx.AddChain(Writable(8));
        ushort good = _rx.AddChain(Writable(2048));
        _driver.Notify(VirtioNet.ReceiveQueue);
        byte[] frame = Frame(100, 0x42);
        _backend.Deliver(WithHeader(frame));

        WaitForUsed(_rx, 2);
        _rx.Used(0).Should().Be((good, 12u + (uint)frame.Length), "the frame's buffers come first, in one piece");
        _rx.Used(1).Should().Be((tiny, 0u));
        _rx.ReadBuffer(good, 12)[10].Should().Be(1);
        _net.BadReceiveChains.Should().Be(1);
        _net.FramesReceived.Should().Be(1);
    }

    [Fact]
    public void Without_mergeable_buffers_a_chain_without_room_for_the_header_costs_the_frame_and_is_counted()
    {
        _driver.Initialize(msix: true, OfferedBut(VirtioNet.FeatureMrgRxbuf), _rx, _tx);
        ushort tiny = _rx.AddChain(Writable(8));
        _driver.Notify(VirtioNet.ReceiveQueue);
        _backend.Deliver(WithHeader(Frame(100, 0x42)));

        WaitForUsed(_rx, 1);
        _rx.Used(0).Should().Be((tiny, 0u));
        _net.BadReceiveChains.Should().Be(1);
        _net.FramesDropped.Should().Be(1);
        _driver.Status.Should().NotHaveFlag(VirtioDeviceStatus.DeviceNeedsReset);
    }

    [Fact]
    public void A_merged_header_split_over_several_descriptors_is_written_in_place()
    {
        _driver.Initialize(msix: true, null, _rx, _tx);
        ushort head = _rx.AddChain(Writable(5), Writable(5), Writable(100));
        _driver.Notify(VirtioNet.ReceiveQueue);
        byte[] frame = Frame(50, 0x09);
        _backend.Deliver(WithHeader(frame));

        WaitForUsed(_rx, 1);
        _rx.Used(0).Should().Be((head, 12u + (uint)frame.Length));
        byte[] got = [.. _rx.ReadBuffer(head, 5), .. _rx.ReadBuffer((ushort)(head + 1), 5), .. _rx.ReadBuffer((ushort)(head + 2), 100)];
        got[10].Should().Be(1, "num_buffers lies in the second descriptor");
        got.AsSpan(12, frame.Length).ToArray().Should().Equal(frame);
    }

    [Theory]
    [InlineData(true, 2)]
    [InlineData(false, 0)]
    public void The_guest_sees_checksum_flags_only_when_it_negotiated_GUEST_CSUM(bool guestCsum, byte expectedFlags)
    {
        _driver.Initialize(msix: true, guestCsum ? null : OfferedBut(VirtioNet.FeatureGuestCsum), _rx, _tx);
        ushort head = _rx.AddChain(Writable(2048));
        _driver.Notify(VirtioNet.ReceiveQueue);
        _backend.Deliver(WithHeader(Frame(60, 0x01), flags: VirtioNetHeader.FlagDataValid | 0x40));

        WaitForUsed(_rx, 1);
        _rx.ReadBuffer(head, 1)[0].Should().Be(expectedFlags, "DATA_VALID passes with GUEST_CSUM, unknown bits never");
    }

    [Fact]
    public void A_segmented_frame_the_guest_did_not_negotiate_is_dropped_before_it_takes_a_buffer()
    {
        _driver.Initialize(msix: true, null, _rx, _tx);
        _rx.AddChain(Writable(2048));
        _driver.Notify(VirtioNet.ReceiveQueue);
        byte[] gso = WithHeader(Frame(60, 0x01));
        gso[1] = VirtioNetHeader.GsoTcpV4; // the fake backend offers no GUEST_TSO4
        _backend.Deliver(gso);
        byte[] plain = WithHeader(Frame(60, 0x02));
        _backend.Deliver(plain);

        WaitForUsed(_rx, 1);
        _rx.ReadBuffer(_rx.Used(0).Id, plain.Length).AsSpan(12).ToArray().Should().Equal(plain.AsSpan(12).ToArray());
        _net.BadOffloadHeaders.Should().Be(1);
        _net.FramesDropped.Should().Be(1);
    }

    [Fact]
    public void A_runt_frame_from_the_backend_is_dropped_without_taking_a_buffer()
    {
        _driver.Initialize(msix: true, null, _rx, _tx);
        _rx.AddChain(Writable(2048));
        _driver.Notify(VirtioNet.ReceiveQueue);
        _backend.Deliver(WithHeader([1, 2, 3]));
        _backend.Deliver([1, 2, 3]); // not even a header
        SpinWait.SpinUntil(() => _backend.Pending == 0, TimeSpan.FromSeconds(10)).Should().BeTrue();

        _net.FramesDropped.Should().Be(2);
        _rx.UsedIndex.Should().Be(0);
    }
}
