namespace Platform.Web.Data;

/// <summary>
/// One task of the task log (Proxmox's Tasks panel): a long or failing action — a VM's start, an upload, a snapshot, a
/// backup — with who asked, what and on which VM, when it began and ended, how it ended and its log lines. Written by
/// <c>ITaskLog</c> when the action begins and again when it ends; kept after the VM is deleted, so
/// <see cref="VmName"/> is stored alongside the id.
/// </summary>
public sealed class TaskEntry
{
    public long Id { get; set; }

    /// <summary>What was done, as <c>area.verb</c>: <c>vm.start</c>, <c>image.upload</c>; see <c>TaskActions</c>.</summary>
    public required string Action { get; set; }

    /// <summary>The VM it was done to; null for a task about the host (an image upload, a database backup).</summary>
    public Guid? VmId { get; set; }

    public string? VmName { get; set; }

    /// <summary>What within the VM or host it was done to, in words: "disk 1", "snapshot before-upgrade", an image's file name.</summary>
    public string? Target { get; set; }

    /// <summary>Who asked (the user name, with the API token's prefix for a token); null for the dashboard's own work.</summary>
    public string? UserName { get; set; }

    /// <summary>
    /// The host whose dashboard ran it (<c>Platform:Cluster:HostName</c>, the machine's name by default): in a cluster,
    /// where the VM runs; and only that host's dashboard may call it off when it finds it Running at its start.
    /// Null for tasks logged before hosts were recorded.
    /// </summary>
    public string? Host { get; set; }

    public DateTimeOffset StartedAt { get; set; }

    public DateTimeOffset? EndedAt { get; set; }

    public TaskEntryStatus Status { get; set; } = TaskEntryStatus.Running;

    /// <summary>How it ended in one line: the reason of a failure, else a summary. Null while it runs.</summary>
    public string? Result { get; set; }

    /// <summary>The log lines, one per line, each "{UTC time, ISO 8601} {text}"; see <c>TaskLines</c>.</summary>
    public string Log { get; set; } = "";
}

public enum TaskEntryStatus
{
    Running,
    Ok,
    Failed,
    /// <summary>Called off before it finished (the caller went away, or the dashboard stopped while it ran).</summary>
    Cancelled,
}
