namespace Platform.Web.Services.Vms;

/// <summary>
/// One row of the VM list: only what the list shows. The list reads these in one query of its own columns, not each
/// VM's whole graph (disks, NICs, images, cloud-init), which with 200 VMs was six queries and every disk's and NIC's
/// row for a page that shows a disk count.
/// </summary>
public sealed record VmListItem(Guid Id, string Name, string? Description, int VcpuCount, int MemoryMiB, int DiskCount);
