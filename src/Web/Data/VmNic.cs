namespace Platform.Web.Data;

/// <summary>One virtio-net NIC of a VM, backed by a host TAP device.</summary>
public sealed class VmNic
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public Guid VirtualMachineId { get; set; }

    /// <summary>0-based order within the VM (the guest's eth0, eth1…).</summary>
    public int Position { get; set; }

    /// <summary>The host TAP interface, e.g. <c>tap0</c> (at most 15 characters, Linux's IFNAMSIZ - 1).</summary>
    public required string TapName { get; set; }

    /// <summary>Lower-case <c>xx:xx:xx:xx:xx:xx</c>; generated as <c>52:54:00:…</c> when the user gives none.</summary>
    public required string MacAddress { get; set; }
}
