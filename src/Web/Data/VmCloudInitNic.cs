namespace Platform.Web.Data;

/// <summary>
/// A static address for one NIC of a VM, given to the guest by cloud-init's network-config (version 2, the NIC matched
/// by its MAC). A NIC without one gets DHCP. Kept with the cloud-init settings, by the NIC's position, so a NIC edited in
/// place (new network or MAC) keeps it and the seed follows the NIC's current MAC.
/// </summary>
public sealed class VmCloudInitNic
{
    /// <summary>The NIC's 0-based <see cref="VmNic.Position"/>.</summary>
    public int Position { get; set; }

    /// <summary>IPv4 address with its prefix length, such as <c>192.168.10.20/24</c>.</summary>
    public required string Ipv4Address { get; set; }

    /// <summary>The default IPv4 route's next hop; null: no default route through this NIC.</summary>
    public string? Ipv4Gateway { get; set; }

    /// <summary>DNS servers (IPv4 or IPv6), in the order the resolver tries them.</summary>
    public List<string> DnsServers { get; set; } = [];

    /// <summary>Optional IPv6 address with its prefix length, such as <c>2001:db8:10::20/64</c>.</summary>
    public string? Ipv6Address { get; set; }

    public string? Ipv6Gateway { get; set; }
}
