namespace Platform.Web.Data;

/// <summary>
/// What one user, or the members of one group together, may own: VMs, their vCPUs, memory and disk bytes, and bytes
/// in the image library. Exactly one of <see cref="UserId"/> and <see cref="GroupId"/>; a null maximum is no limit.
/// Administrators set quotas; creating or growing past any quota that applies to the user is refused.
/// </summary>
public sealed class ResourceQuota
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public string? UserId { get; set; }

    public Guid? GroupId { get; set; }

    public int? MaxVms { get; set; }

    public int? MaxVcpus { get; set; }

    public long? MaxMemoryMiB { get; set; }

    /// <summary>Virtual sizes of the VMs' own disks (blank disks and linked-clone overlays).</summary>
    public long? MaxDiskBytes { get; set; }

    /// <summary>Bytes of the image library's files the user uploaded.</summary>
    public long? MaxImageBytes { get; set; }

    public DateTimeOffset UpdatedAt { get; set; } = DateTimeOffset.UtcNow;
}
