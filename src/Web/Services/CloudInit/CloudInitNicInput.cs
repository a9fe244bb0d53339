namespace Platform.Web.Services.CloudInit;

/// <summary>How the guest configures a NIC: by DHCP (the default) or with the static addresses given.</summary>
public enum CloudInitNicMode
{
    Dhcp,
    Static,
}

/// <summary>
/// One NIC's network settings in <see cref="CloudInitInput.Networks"/>, checked by <see cref="CloudInitNetworkRules"/>.
/// With <see cref="CloudInitNicMode.Dhcp"/> the address fields are ignored.
/// </summary>
public sealed class CloudInitNicInput
{
    /// <summary>The NIC's 0-based position among the VM's NICs (the guest's first NIC is 0).</summary>
    public int Position { get; set; }

    public CloudInitNicMode Mode { get; set; }

    /// <summary>With its prefix length: <c>192.168.10.20/24</c>.</summary>
    public string? Ipv4Address { get; set; }

    /// <summary>The default route's next hop, in the address's subnet; empty: no default route.</summary>
    public string? Ipv4Gateway { get; set; }

    /// <summary>At most three IPv4 or IPv6 addresses.</summary>
    public List<string>? DnsServers { get; set; }

    /// <summary>Optional, with its prefix length: <c>2001:db8:10::20/64</c>.</summary>
    public string? Ipv6Address { get; set; }

    /// <summary>In the IPv6 address's subnet, or link-local (<c>fe80::1</c>, as routers advertise themselves).</summary>
    public string? Ipv6Gateway { get; set; }
}
