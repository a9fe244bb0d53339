using System.Buffers.Binary;
using Platform.Engine.Net;

namespace Platform.Engine.Tests.Net;

// The VMM's own access-port tagging: frames (virtio header first) gain and lose VLAN tags with the header's offsets
// moved along, and anything without exactly the port's tag is refused.
public sealed class VlanTagTests
{
    private const int Header = 12;

    /// <summary>A virtio header (NEEDS_CSUM, csum_start 34, hdr_len 54, gso TCPv4) and an untagged IPv4 frame of 60 bytes.</summary>
    private static byte[] UntaggedFrame()
    {
        var frame = new byte[Header + 60];
        frame[0] = 1;                                                         // NEEDS_CSUM
        frame[1] = 1;                                                         // GSO_TCPV4
        BinaryPrimitives.WriteUInt16LittleEndian(frame.AsSpan(2), 54);        // hdr_len
        BinaryPrimitives.WriteUInt16LittleEndian(frame.AsSpan(6), 34);        // csum_start
        BinaryPrimitives.WriteUInt16LittleEndian(frame.AsSpan(8), 16);        // csum_offset
        for (int i = 0; i < 12; i++)
        {
            frame[Header + i] = (byte)(0xA0 + i);                              // destination and source MACs
        }

        frame[Header + 12] = 0x08;                                            // IPv4
        for (int i = Header + 14; i < frame.Length; i++)
        {
            frame[i] = (byte)i;
        }

        return frame;
    }

    [Fact]
    public void A_tag_goes_in_after_the_macs_and_the_offsets_move_with_it()
    {
        byte[] frame = UntaggedFrame();
        var tagged = new byte[frame.Length + 4];

        VlanTag.Insert(frame, tagged, Header, vlan: 4094).Should().Be(frame.Length + 4);

        tagged.AsSpan(Header, 12).ToArray().Should().Equal(frame.AsSpan(Header, 12).ToArray());
        tagged.AsSpan(Header + 12, 4).ToArray().Should().Equal([0x81, 0x00, 0x0F, 0xFE]);
        tagged.AsSpan(Header + 16).ToArray().Should().Equal(frame.AsSpan(Header + 12).ToArray(), "the EtherType and payload follow the tag");
        BinaryPrimitives.ReadUInt16LittleEndian(tagged.AsSpan(2)).Should().Be(58, "hdr_len counts the tag");
        BinaryPrimitives.ReadUInt16LittleEndian(tagged.AsSpan(6)).Should().Be(38, "csum_start counts the tag");
        BinaryPrimitives.ReadUInt16LittleEndian(tagged.AsSpan(8)).Should().Be(16, "csum_offset is relative to csum_start");
    }

    [Fact]
    public void Stripping_gives_back_exactly_what_was_tagged()
    {
        byte[] frame = UntaggedFrame();
        var tagged = new byte[frame.Length + 4];
        int length = VlanTag.Insert(frame, tagged, Header, vlan: 10);

        int start = VlanTag.Strip(tagged.AsSpan(0, length), Header, vlan: 10);

        start.Should().Be(4);
        tagged.AsSpan(start, length - start).ToArray().Should().Equal(frame);
    }

    [Fact]
    public void Without_checksum_offload_csum_start_stays_and_an_empty_hdr_len_stays_empty()
    {
        byte[] frame = UntaggedFrame();
        frame[0] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(frame.AsSpan(2), 0);
        var tagged = new byte[frame.Length + 4];

        VlanTag.Insert(frame, tagged, Header, vlan: 10);

        BinaryPrimitives.ReadUInt16LittleEndian(tagged.AsSpan(2)).Should().Be(0);
        BinaryPrimitives.ReadUInt16LittleEndian(tagged.AsSpan(6)).Should().Be(34);
    }

    [Theory]
    [InlineData(20)]
    [InlineData(10 | 0x1000)] // the DEI bit set, VLAN 10: still VLAN 10 (only the low 12 bits are the id)
    public void Only_the_ports_vlan_is_taken(int tci)
    {
        byte[] frame = UntaggedFrame();
        var tagged = new byte[frame.Length + 4];
        int length = VlanTag.Insert(frame, tagged, Header, vlan: 10);
        BinaryPrimitives.WriteUInt16BigEndian(tagged.AsSpan(Header + 14), (ushort)tci);

        VlanTag.Strip(tagged.AsSpan(0, length), Header, vlan: 10).Should().Be((tci & 0xFFF) == 10 ? 4 : -1);
    }

    [Fact]
    public void Untagged_short_and_double_tagged_frames_are_refused()
    {
        byte[] untagged = UntaggedFrame();
        VlanTag.Strip(untagged, Header, vlan: 10).Should().Be(-1, "an untagged frame is not on the port's VLAN");
        VlanTag.Strip(new byte[Header + 15], Header, vlan: 10).Should().Be(-1, "too short to hold a tag and an EtherType");

        var buffer = new byte[untagged.Length + 8];
        int once = VlanTag.Insert(untagged, buffer, Header, vlan: 10);
        VlanTag.Insert(buffer.AsSpan(0, once), new byte[once + 4], Header, vlan: 10).Should().Be(0,
            "a guest on an access port does not pick its own VLAN: a frame it tagged itself is refused");
        VlanTag.Insert(new byte[Header + 13], new byte[64], Header, vlan: 10).Should().Be(0, "shorter than an Ethernet header");
    }
}
