namespace Platform.Web.Data;

/// <summary>
/// Who took a VM's disk snapshot and when, as the dashboard saw it. The snapshot itself lives inside each qcow2 disk
/// (an internal snapshot, which <c>qemu-img snapshot -l</c> lists); this row only adds what the image cannot say. A
/// snapshot found in the disks without a row (taken by <c>qemu-img</c>, say) is still listed, by the image's own time.
/// </summary>
public sealed class VmSnapshot
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public Guid VirtualMachineId { get; set; }

    /// <summary>The snapshot's name in every disk; unique within the VM.</summary>
    public required string Name { get; set; }

    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>The user name of whoever took it; null when unknown.</summary>
    public string? CreatedBy { get; set; }
}
