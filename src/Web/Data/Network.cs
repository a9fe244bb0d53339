namespace Platform.Web.Data;

/// <summary>
/// A network VMs' NICs join, administered like Proxmox's SDN zones and libvirt's networks: who may attach a NIC to it
/// is a grant (<c>Network.Use</c> on <c>/networks/{id}</c>), so nobody but an administrator ever names a host device.
/// </summary>
public sealed class Network
{
    /// <summary>The NAT network every installation has from its first start (seeded by the migration).</summary>
    public static readonly Guid DefaultId = new("00000000-0000-0000-0000-0000000000e1");

    public const string DefaultName = "default";

    public Guid Id { get; set; } = Guid.NewGuid();

    /// <summary>Unique, like a VM's name.</summary>
    public required string Name { get; set; }

    public NetworkKind Kind { get; set; }

    /// <summary>With <see cref="NetworkKind.Bridge"/>: the existing host bridge (e.g. <c>vmbr0</c>).</summary>
    public string? Bridge { get; set; }

    /// <summary>With <see cref="NetworkKind.Bridge"/>: the 802.1Q VLAN its NICs are on (untagged for the guest); null: untagged traffic.</summary>
    public int? Vlan { get; set; }

    public string? Description { get; set; }

    /// <summary>
    /// The bridge's IPv4 or IPv6 subnet, such as <c>192.168.10.0/24</c>, when the administrator knows it: static addresses
    /// that cloud-init gives its NICs are checked against it. Null: unknown (NAT networks copy the host's addresses).
    /// </summary>
    public string? Subnet { get; set; }

    /// <summary>The subnet's router, if known: no NIC may take its address.</summary>
    public string? Gateway { get; set; }

    /// <summary>What it is, for lists and the audit log: "NAT (user-mode)", "bridge vmbr0", "bridge vmbr0, VLAN 10, 192.168.10.0/24".</summary>
    public string Describe() => Kind == NetworkKind.Nat ? "NAT (user-mode)"
        : (Vlan is { } vlan ? $"bridge {Bridge}, VLAN {vlan}" : $"bridge {Bridge}") + (Subnet is { } subnet ? $", {subnet}" : "");

    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
}

public enum NetworkKind
{
    /// <summary>User-mode NAT, one of its own per NIC (passt): DHCP, DNS, outbound traffic and port forwards, no host set-up.</summary>
    Nat,
    /// <summary>An existing host bridge: the VMM makes a TAP on it per NIC; the guest is on the bridge's LAN.</summary>
    Bridge,
}
