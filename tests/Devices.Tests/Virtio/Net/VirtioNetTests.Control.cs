using System.Buffers.Binary;
using System.Net.NetworkInformation;
using Platform.Devices.Virtio;
using Platform.Devices.Virtio.Net;
using static Platform.Devices.Tests.Virtio.FakeBuffer;

namespace Platform.Devices.Tests.Virtio.Net;

// The control queue: receive modes, the MAC table and address, announcements, and every malformed command answered.
public sealed partial class VirtioNetTests
{
    private static readonly byte[] Broadcast = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
    private static readonly byte[] OtherUnicast = [0x52, 0x54, 0, 0xAA, 0xBB, 0xCC];
    private static readonly byte[] Multicast1 = [0x01, 0x00, 0x5E, 0, 0, 1];
    private static readonly byte[] Multicast2 = [0x33, 0x33, 0, 0, 0, 1];

    private ushort _controlAnswered;

    /// <summary>Sends one command (class, command, data) with a one-byte answer buffer and returns the answer.</summary>
    private byte Control(params byte[] command)
    {
        // A chain holds no empty buffers, so "no command at all" is a chain with only the answer's byte.
        ushort head = command.Length == 0 ? _ctrl.AddChain(Writable(1)) : _ctrl.AddChain(Readable(command), Writable(1));
        _driver.Notify(VirtioNet.ControlQueue);
        WaitForUsed(_ctrl, ++_controlAnswered);
        _ctrl.Used(_controlAnswered - 1).Should().Be((head, 1u));
        return _ctrl.ReadBuffer((ushort)(head + (command.Length == 0 ? 0 : 1)), 1)[0];
    }

    private static byte[] MacList(params byte[][] macs)
    {
        byte[] list = new byte[4 + (6 * macs.Length)];
        BinaryPrimitives.WriteUInt32LittleEndian(list, (uint)macs.Length);
        for (int i = 0; i < macs.Length; i++)
        {
            macs[i].CopyTo(list, 4 + (6 * i));
        }

        return list;
    }

    private static byte[] FrameTo(byte[] destination) => [.. destination, .. Frame(50, 0x10)[6..]];

    /// <summary>Delivers frames to each destination and returns which reached the guest (in order), by destination.</summary>
    private List<byte[]> DeliverTo(params byte[][] destinations)
    {
        long before = _net.FramesReceived + _net.FramesFiltered;
        ushort usedBefore = _rx.UsedIndex;
        foreach (byte[] destination in destinations)
        {
            _rx.AddChain(Writable(2048));
            _backend.Deliver(WithHeader(FrameTo(destination)));
        }

        _driver.Notify(VirtioNet.ReceiveQueue);
        SpinWait.SpinUntil(() => _net.FramesReceived + _net.FramesFiltered == before + destinations.Length, TimeSpan.FromSeconds(10))
            .Should().BeTrue();
        return [.. Enumerable.Range(usedBefore, (ushort)(_rx.UsedIndex - usedBefore))
            .Select(i => _rx.ReadBuffer(_rx.Used(i).Id, 18)[12..])];
    }

    [Fact]
    public void The_filter_starts_promiscuous_and_with_promiscuous_mode_off_takes_only_its_own_MAC_and_broadcast()
    {
        _driver.Initialize(msix: true, null, _rx, _tx, _ctrl);
        DeliverTo(OtherUnicast).Should().HaveCount(1, "promiscuous until the driver says otherwise, as QEMU");

        Control(VirtioNet.ClassRx, VirtioNet.RxPromisc, 0).Should().Be(VirtioNet.ControlOk);
        var got = DeliverTo(OtherUnicast, Mac.GetAddressBytes(), Broadcast, Multicast1);

        got.Should().HaveCount(2);
        got[0].Should().Equal(Mac.GetAddressBytes());
        got[1].Should().Equal(Broadcast);
        _net.FramesFiltered.Should().Be(2);
        _net.FramesDropped.Should().Be(0, "filtered frames are not losses");
    }

    [Fact]
    public void The_MAC_table_lets_its_unicast_and_multicast_addresses_through_and_ALLMULTI_every_multicast()
    {
        _driver.Initialize(msix: true, null, _rx, _tx, _ctrl);
        Control(VirtioNet.ClassRx, VirtioNet.RxPromisc, 0).Should().Be(VirtioNet.ControlOk);
        Control([VirtioNet.ClassMac, VirtioNet.MacTableSet, .. MacList(OtherUnicast), .. MacList(Multicast1)])
            .Should().Be(VirtioNet.ControlOk);

        DeliverTo(OtherUnicast, Multicast1, Multicast2).Should().HaveCount(2);
        Control(VirtioNet.ClassRx, VirtioNet.RxAllMulti, 1).Should().Be(VirtioNet.ControlOk);
        DeliverTo(Multicast2).Should().HaveCount(1);
    }

    [Fact]
    public void A_MAC_list_longer_than_the_table_lets_every_address_of_its_kind_through()
    {
        _driver.Initialize(msix: true, null, _rx, _tx, _ctrl);
        Control(VirtioNet.ClassRx, VirtioNet.RxPromisc, 0).Should().Be(VirtioNet.ControlOk);
        byte[][] many = [.. Enumerable.Range(0, 65).Select(i => new byte[] { 0x52, 0x54, 0, 1, 0, (byte)i })];
        Control([VirtioNet.ClassMac, VirtioNet.MacTableSet, .. MacList(many), .. MacList()]).Should().Be(VirtioNet.ControlOk);

        _net.Filter.UnicastOverflow.Should().BeTrue();
        DeliverTo(OtherUnicast, Multicast1).Should().HaveCount(1, "unicast overflows, multicast stays filtered");
    }

    [Fact]
    public void The_extra_receive_modes_turn_away_broadcast_multicast_and_unicast()
    {
        _driver.Initialize(msix: true, null, _rx, _tx, _ctrl);
        Control(VirtioNet.ClassRx, VirtioNet.RxPromisc, 0).Should().Be(VirtioNet.ControlOk);
        Control(VirtioNet.ClassRx, VirtioNet.RxNoBcast, 1).Should().Be(VirtioNet.ControlOk);
        Control(VirtioNet.ClassRx, VirtioNet.RxAllMulti, 1).Should().Be(VirtioNet.ControlOk);
        Control(VirtioNet.ClassRx, VirtioNet.RxNoMulti, 1).Should().Be(VirtioNet.ControlOk);
        Control(VirtioNet.ClassRx, VirtioNet.RxNoUni, 1).Should().Be(VirtioNet.ControlOk);

        DeliverTo(Broadcast, Multicast1, Mac.GetAddressBytes()).Should().BeEmpty();
        Control(VirtioNet.ClassRx, VirtioNet.RxNoUni, 0).Should().Be(VirtioNet.ControlOk);
        Control(VirtioNet.ClassRx, VirtioNet.RxAllUni, 1).Should().Be(VirtioNet.ControlOk);
        DeliverTo(OtherUnicast).Should().HaveCount(1);
    }

    [Fact]
    public void MAC_ADDR_SET_changes_the_address_in_configuration_space_and_the_filter_until_reset()
    {
        _driver.Initialize(msix: true, null, _rx, _tx, _ctrl);
        Control(VirtioNet.ClassRx, VirtioNet.RxPromisc, 0).Should().Be(VirtioNet.ControlOk);
        Control([VirtioNet.ClassMac, VirtioNet.MacAddrSet, .. OtherUnicast]).Should().Be(VirtioNet.ControlOk);

        Enumerable.Range(0, 6).Select(i => _driver.Read8((ulong)(0x2000 + i))).Should().Equal(OtherUnicast);
        _net.Mac.Should().Be(new PhysicalAddress(OtherUnicast));
        DeliverTo(Mac.GetAddressBytes(), OtherUnicast).Should().ContainSingle().Which.Should().Equal(OtherUnicast);

        _driver.Status = VirtioDeviceStatus.None;
        _net.Mac.Should().Be(Mac, "a reset brings back the configured address");
        _net.Filter.Promiscuous.Should().BeTrue();
    }

    public static TheoryData<string, byte[]> MalformedCommands => new()
    {
        { "no command at all", [] },
        { "a class without a command", [VirtioNet.ClassRx] },
        { "an unknown class", [9, 0, 1] },
        { "the VLAN class, not offered", [2, 0, 1, 0] },
        { "the MQ class, not offered", [4, 0, 1, 0] },
        { "an unknown receive mode", [VirtioNet.ClassRx, 6, 1] },
        { "a receive mode without its byte", [VirtioNet.ClassRx, VirtioNet.RxPromisc] },
        { "a receive mode with two bytes", [VirtioNet.ClassRx, VirtioNet.RxPromisc, 0, 0] },
        { "an unknown MAC command", [VirtioNet.ClassMac, 2, 0, 0, 0, 0] },
        { "a MAC table without its counts", [VirtioNet.ClassMac, VirtioNet.MacTableSet, 0, 0] },
        { "a MAC table whose count runs past the buffer", [VirtioNet.ClassMac, VirtioNet.MacTableSet, 2, 0, 0, 0, .. OtherUnicast, 0, 0, 0, 0] },
        { "a MAC table claiming four billion entries", [VirtioNet.ClassMac, VirtioNet.MacTableSet, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0] },
        { "a MAC table without its multicast list", [VirtioNet.ClassMac, VirtioNet.MacTableSet, .. MacList(OtherUnicast)] },
        { "a MAC table with bytes left over", [VirtioNet.ClassMac, VirtioNet.MacTableSet, .. MacList(), .. MacList(), 7] },
        { "a MAC address of five bytes", [VirtioNet.ClassMac, VirtioNet.MacAddrSet, 0x52, 0x54, 0, 1, 2] },
        { "a MAC address of seven bytes", [VirtioNet.ClassMac, VirtioNet.MacAddrSet, 0x52, 0x54, 0, 1, 2, 3, 4] },
        { "a multicast MAC address", [VirtioNet.ClassMac, VirtioNet.MacAddrSet, .. Multicast1] },
        { "an announcement ack nobody asked for", [VirtioNet.ClassAnnounce, VirtioNet.AnnounceAck] },
        { "an unknown announce command", [VirtioNet.ClassAnnounce, 1] },
    };

    [Theory]
    [MemberData(nameof(MalformedCommands))]
    public void A_malformed_or_unknown_control_command_is_answered_ERR_and_changes_nothing(string what, byte[] command)
    {
        _driver.Initialize(msix: true, null, _rx, _tx, _ctrl);
        Control([VirtioNet.ClassMac, VirtioNet.MacTableSet, .. MacList(OtherUnicast), .. MacList(Multicast1)])
            .Should().Be(VirtioNet.ControlOk);

        Control(command).Should().Be(VirtioNet.ControlError, what);
        _net.ControlErrors.Should().Be(1);
        _net.Filter.UnicastCount.Should().Be(1, "a refused table leaves the old one");
        _net.Filter.MulticastCount.Should().Be(1);
        _net.Mac.Should().Be(Mac);
        _driver.Status.Should().NotHaveFlag(VirtioDeviceStatus.DeviceNeedsReset);
        Control(VirtioNet.ClassRx, VirtioNet.RxPromisc, 0).Should().Be(VirtioNet.ControlOk, "the queue goes on");
    }

    [Fact]
    public void A_command_split_over_several_descriptors_is_read_whole()
    {
        _driver.Initialize(msix: true, null, _rx, _tx, _ctrl);
        byte[] command = [VirtioNet.ClassMac, VirtioNet.MacTableSet, .. MacList(OtherUnicast), .. MacList(Multicast1, Multicast2)];
        ushort head = _ctrl.AddChain(Readable(command[..2]), Readable(command[2..9]), Readable(command[9..]), Writable(1));
        _driver.Notify(VirtioNet.ControlQueue);

        WaitForUsed(_ctrl, 1);
        _ctrl.ReadBuffer((ushort)(head + 3), 1)[0].Should().Be(VirtioNet.ControlOk);
        _net.Filter.MulticastCount.Should().Be(2);
    }

    [Fact]
    public void A_control_chain_with_no_room_for_the_answer_is_returned_unanswered_and_counted()
    {
        _driver.Initialize(msix: true, null, _rx, _tx, _ctrl);
        ushort head = _ctrl.AddChain(Readable([VirtioNet.ClassRx, VirtioNet.RxPromisc, 0]));
        _driver.Notify(VirtioNet.ControlQueue);

        WaitForUsed(_ctrl, 1);
        _controlAnswered = 1;
        _ctrl.Used(0).Should().Be((head, 0u));
        _net.BadControlChains.Should().Be(1);
        _net.Filter.Promiscuous.Should().BeTrue("an unanswerable command is not carried out");
        _driver.Status.Should().NotHaveFlag(VirtioDeviceStatus.DeviceNeedsReset);
        Control(VirtioNet.ClassRx, VirtioNet.RxPromisc, 0).Should().Be(VirtioNet.ControlOk);
    }

    [Fact]
    public void Commands_for_features_the_driver_did_not_negotiate_are_refused()
    {
        _driver.Initialize(msix: true, OfferedBut(VirtioNet.FeatureCtrlRx | VirtioNet.FeatureCtrlMacAddr | VirtioNet.FeatureCtrlRxExtra), _rx, _tx, _ctrl);

        Control(VirtioNet.ClassRx, VirtioNet.RxPromisc, 0).Should().Be(VirtioNet.ControlError);
        Control([VirtioNet.ClassMac, VirtioNet.MacAddrSet, .. OtherUnicast]).Should().Be(VirtioNet.ControlError);
        Control([VirtioNet.ClassMac, VirtioNet.MacTableSet, .. MacList(), .. MacList()]).Should().Be(VirtioNet.ControlError);
        _net.Filter.Promiscuous.Should().BeTrue();
    }

    [Fact]
    public void A_link_that_comes_back_asks_the_guest_to_announce_itself_until_it_acknowledges()
    {
        _driver.Initialize(msix: true, null, _rx, _tx, _ctrl);
        _net.SetLinkUp(false);
        _msi.Clear();
        _net.SetLinkUp(true);

        _msi.Signals.Should().ContainSingle().Which.Vector.Should().Be(0, "one configuration interrupt says link and announcement");
        _driver.Read16(0x2006).Should().Be(VirtioNet.StatusLinkUp | VirtioNet.StatusAnnounce);
        Control(VirtioNet.ClassAnnounce, VirtioNet.AnnounceAck).Should().Be(VirtioNet.ControlOk);
        _driver.Read16(0x2006).Should().Be(VirtioNet.StatusLinkUp);
        _net.AnnouncePending.Should().BeFalse();
        Control(VirtioNet.ClassAnnounce, VirtioNet.AnnounceAck).Should().Be(VirtioNet.ControlError, "nothing left to acknowledge");
    }

    [Fact]
    public void Without_GUEST_ANNOUNCE_a_link_change_only_changes_the_status()
    {
        _driver.Initialize(msix: true, OfferedBut(VirtioNet.FeatureGuestAnnounce), _rx, _tx, _ctrl);
        _net.SetLinkUp(false);
        _net.SetLinkUp(true);

        _net.Announce().Should().BeFalse();
        _driver.Read16(0x2006).Should().Be(VirtioNet.StatusLinkUp);
    }
}
