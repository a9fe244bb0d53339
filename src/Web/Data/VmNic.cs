namespace Platform.Web.Data;

/// <summary>A virtio-net NIC of a VM: on an administered <see cref="Network"/>, or (administrators only) on a host TAP device.</summary>
public sealed class VmNic
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public Guid VirtualMachineId { get; set; }

    /// <summary>0-based order within the VM (the guest's eth0, eth1…).</summary>
    public int Position { get; set; }

    /// <summary>The network the NIC joins; null for a NIC on <see cref="TapName"/>.</summary>
    public Guid? NetworkId { get; set; }

    public Network? Network { get; set; }

    /// <summary>A host TAP interface someone else made, e.g. <c>tap0</c> (at most 15 characters, Linux's IFNAMSIZ - 1); null on a network.</summary>
    public string? TapName { get; set; }

    /// <summary>Lower-case <c>xx:xx:xx:xx:xx:xx</c>; generated as <c>52:54:00:…</c> when the user gives none.</summary>
    public required string MacAddress { get; set; }

    /// <summary>On a NAT network: host ports forwarded to the guest.</summary>
    public List<VmPortForward> PortForwards { get; set; } = [];
}

/// <summary>A host address and port forwarded to a guest port through a NAT network's passt.</summary>
public sealed class VmPortForward
{
    public ForwardProtocol Protocol { get; set; } = ForwardProtocol.Tcp;

    public string HostAddress { get; set; } = "127.0.0.1";

    public int HostPort { get; set; }

    public int GuestPort { get; set; }
}
