using System.Buffers.Binary;
using System.Net;

namespace Platform.Devices.Virtio.Net;

/// <summary>
/// The IP addresses a guest uses on one NIC, learnt from the frames it sends from its own MAC: the sender of its ARP
/// packets and the source of its IPv4 packets, and the source of its IPv6 packets when that is a global or unique
/// local address (not link-local, which every interface has). Works the same on every kind of network, NAT or
/// bridge, and needs nothing from the guest (libvirt's "arp" address source is the anchor).
/// </summary>
/// <remarks>
/// Called on the device's transmit path for every frame, so it only compares a few bytes and allocates only when an
/// address is new. It believes the guest: a guest can claim any address it likes, and this shows what it claims.
/// </remarks>
public sealed class GuestAddressWatch
{
    private const ushort EtherArp = 0x0806, EtherIpv4 = 0x0800, EtherIpv6 = 0x86DD;

    private readonly byte[] _mac;
    private readonly object _gate = new();
    private IPAddress? _ipv4;
    private IPAddress? _ipv6;

    public GuestAddressWatch(byte[] mac) => _mac = mac;

    /// <summary>The IPv4 address the guest last sent from; null until it has.</summary>
    public IPAddress? Ipv4
    {
        get
        {
            lock (_gate)
            {
                return _ipv4;
            }
        }
    }

    /// <summary>The global or unique local IPv6 address the guest last sent from; null until it has.</summary>
    public IPAddress? Ipv6
    {
        get
        {
            lock (_gate)
            {
                return _ipv6;
            }
        }
    }

    /// <summary>Looks at one Ethernet frame the guest sent.</summary>
    public void Observe(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < 14 || !frame.Slice(6, 6).SequenceEqual(_mac))
        {
            return;
        }

        var payload = frame[14..];
        switch (BinaryPrimitives.ReadUInt16BigEndian(frame[12..]))
        {
            // ARP for IPv4 over Ethernet: sender MAC at 8, sender IP at 14.
            case EtherArp when payload.Length >= 28 && BinaryPrimitives.ReadUInt16BigEndian(payload[2..]) == EtherIpv4 &&
                               payload.Slice(8, 6).SequenceEqual(_mac):
                NoteIpv4(payload.Slice(14, 4));
                break;
            case EtherIpv4 when payload.Length >= 20 && payload[0] >> 4 == 4:
                NoteIpv4(payload.Slice(12, 4));
                break;
            case EtherIpv6 when payload.Length >= 40 && payload[0] >> 4 == 6:
                NoteIpv6(payload.Slice(8, 16));
                break;
        }
    }

    private void NoteIpv4(ReadOnlySpan<byte> address)
    {
        // 0.0.0.0 (a DHCP client before its lease), broadcast, multicast and 169.254/16 link-local say nothing.
        uint value = BinaryPrimitives.ReadUInt32BigEndian(address);
        if (value == 0 || value == uint.MaxValue || address[0] >= 224 || (address[0] == 169 && address[1] == 254))
        {
            return;
        }

        lock (_gate)
        {
            if (_ipv4 is null || !SameBytes(_ipv4, address))
            {
                _ipv4 = new IPAddress(address);
            }
        }
    }

    private void NoteIpv6(ReadOnlySpan<byte> address)
    {
        // Global unicast is 2000::/3; unique local is fc00::/7. Link-local, multicast and :: are left out.
        bool global = (address[0] & 0xE0) == 0x20;
        bool uniqueLocal = (address[0] & 0xFE) == 0xFC;
        if (!global && !uniqueLocal)
        {
            return;
        }

        lock (_gate)
        {
            if (_ipv6 is null || !SameBytes(_ipv6, address))
            {
                _ipv6 = new IPAddress(address);
            }
        }
    }

    private static bool SameBytes(IPAddress known, ReadOnlySpan<byte> address)
    {
        Span<byte> bytes = stackalloc byte[16];
        return known.TryWriteBytes(bytes, out int written) && bytes[..written].SequenceEqual(address);
    }
}
