using System.Buffers.Binary;

namespace Platform.Engine.Net;

/// <summary>
/// 802.1Q tags for an access port the VMM keeps itself (Open vSwitch's <c>tag=</c>, Proxmox's <c>tag=</c>): the
/// guest sends and receives untagged frames; on the host side its frames carry the VLAN's tag, and only frames with
/// that tag reach it. Done in the VMM rather than with the bridge's VLAN filtering, because that needs a kernel built
/// with CONFIG_BRIDGE_VLAN_FILTERING (this project's hosts have neither it nor 8021q) and would separate nothing on
/// a bridge without it; tagged frames cross any bridge to a VLAN-aware uplink or peer.
/// </summary>
/// <remarks>
/// Frames here start with a 12-byte <c>virtio_net_hdr_v1</c> (a TAP with IFF_VNET_HDR). Its offsets count from the
/// Ethernet header, so the 4 bytes of the tag move <c>csum_start</c> (with NEEDS_CSUM) and <c>hdr_len</c> along —
/// what Linux's tun does when it puts a tag inline.
/// </remarks>
public static class VlanTag
{
    public const int Size = 4;
    public const ushort Tpid = 0x8100;
    private const int MacsSize = 12;
    private const byte NeedsChecksum = 1;

    /// <summary>
    /// Writes <paramref name="frame"/> (virtio header, then an untagged Ethernet frame) into <paramref name="tagged"/> with
    /// VLAN <paramref name="vlan"/>'s tag after the MAC addresses; returns the length written, or 0 when the frame is too
    /// short to be Ethernet or already tagged (a guest on an access port does not choose its VLAN).
    /// </summary>
    public static int Insert(ReadOnlySpan<byte> frame, Span<byte> tagged, int headerSize, int vlan)
    {
        if (frame.Length < headerSize + MacsSize + 2 || IsTagged(frame[(headerSize + MacsSize)..]) || tagged.Length < frame.Length + Size)
        {
            return 0;
        }

        int macsEnd = headerSize + MacsSize;
        frame[..macsEnd].CopyTo(tagged);
        BinaryPrimitives.WriteUInt16BigEndian(tagged[macsEnd..], Tpid);
        BinaryPrimitives.WriteUInt16BigEndian(tagged[(macsEnd + 2)..], (ushort)vlan); // priority 0, DEI 0
        frame[macsEnd..].CopyTo(tagged[(macsEnd + Size)..]);
        MoveOffsets(tagged[..headerSize], Size);
        return frame.Length + Size;
    }

    /// <summary>
    /// Takes VLAN <paramref name="vlan"/>'s tag out of <paramref name="frame"/> in place, moving the header and the MAC
    /// addresses 4 bytes on; returns where the untagged frame (header first) now starts, or -1 when the frame does not
    /// carry exactly that VLAN's tag (untagged, another VLAN, or too short) and must not reach the guest.
    /// </summary>
    public static int Strip(Span<byte> frame, int headerSize, int vlan)
    {
        int macsEnd = headerSize + MacsSize;
        if (frame.Length < macsEnd + Size + 2 || !IsTagged(frame[macsEnd..])
            || (BinaryPrimitives.ReadUInt16BigEndian(frame[(macsEnd + 2)..]) & 0x0FFF) != vlan)
        {
            return -1;
        }

        frame[..macsEnd].CopyTo(frame[Size..]); // overlapping: Span.CopyTo copies as memmove does
        MoveOffsets(frame.Slice(Size, headerSize), -Size);
        return Size;
    }

    private static bool IsTagged(ReadOnlySpan<byte> etherType) => BinaryPrimitives.ReadUInt16BigEndian(etherType) == Tpid;

    /// <summary>virtio_net_hdr_v1: flags, gso_type, hdr_len (2), gso_size (2), csum_start (2), csum_offset (2)...</summary>
    private static void MoveOffsets(Span<byte> header, int by)
    {
        if (header.Length < 10)
        {
            return;
        }

        ushort headerLength = BinaryPrimitives.ReadUInt16LittleEndian(header[2..]);
        if (headerLength != 0)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(header[2..], (ushort)(headerLength + by));
        }

        if ((header[0] & NeedsChecksum) != 0)
        {
            ushort start = BinaryPrimitives.ReadUInt16LittleEndian(header[6..]);
            BinaryPrimitives.WriteUInt16LittleEndian(header[6..], (ushort)(start + by));
        }
    }
}
