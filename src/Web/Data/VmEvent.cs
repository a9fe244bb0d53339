namespace Platform.Web.Data;

/// <summary>
/// One line of the VM event/task log: what happened to which VM and how it ended. Written by the pages and the
/// API (through <c>IVmEventLog</c>) and by the supervisor. Kept when the VM is deleted, so <see cref="VmName"/>
/// is stored alongside the id.
/// </summary>
public sealed class VmEvent
{
    public long Id { get; set; }

    public DateTimeOffset At { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>The VM's id; null for events about the host as a whole.</summary>
    public Guid? VmId { get; set; }

    public string? VmName { get; set; }

    /// <summary>What kind of thing happened; see <c>VmEventKinds</c> for the ones we write (free text, at most 64 characters).</summary>
    public required string Kind { get; set; }

    public required string Message { get; set; }

    public VmEventResult Result { get; set; } = VmEventResult.Info;
}

public enum VmEventResult
{
    /// <summary>Something that happened, not an action that could fail (a state change seen by the supervisor).</summary>
    Info,
    Succeeded,
    Failed,
}
