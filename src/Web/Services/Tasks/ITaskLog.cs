using Platform.Web.Data;
using Platform.Web.Security;

namespace Platform.Web.Services.Tasks;

/// <summary>A filter over the task log; every part is optional. <see cref="Take"/> is at most 500.</summary>
public sealed record TaskQuery
{
    public Guid? VmId { get; init; }

    public TaskEntryStatus? Status { get; init; }

    /// <summary>Tasks that began at or after this time.</summary>
    public DateTimeOffset? Since { get; init; }

    public int Skip { get; init; }

    public int Take { get; init; } = 50;
}

/// <summary>One page of the task log, newest first, with the total for a pager.</summary>
public sealed record TaskPage(IReadOnlyList<TaskEntry> Items, int Total);

/// <summary>
/// The task log: every long or failing action (see <see cref="TaskActions"/>) begins a task here and ends it with
/// its outcome; the tasks panel at the bottom of every page and <c>/api/v1/tasks</c> read it. Thread-safe.
/// </summary>
public interface ITaskLog
{
    /// <summary>
    /// Records that <paramref name="action"/> begins (who: <paramref name="userName"/>, else <see cref="TaskActor.Current"/>)
    /// and returns its scope, which also puts the task's and the VM's ids on every log line written until it is
    /// disposed. End it with <see cref="TaskScope.Succeed"/>, <see cref="TaskScope.Fail"/> or
    /// <see cref="TaskScope.Cancel"/>; disposed without one it is failed, since whatever ended it said nothing.
    /// The VM's name is looked up when not given.
    /// </summary>
    TaskScope Begin(string action, Guid? vmId, string? target = null, string? vmName = null, string? userName = null);

    /// <summary>Newest first, only the tasks <paramref name="visibility"/> lets the reader see (as the event log).</summary>
    Task<TaskPage> ListAsync(TaskQuery query, VmVisibility visibility, CancellationToken cancellationToken);

    /// <summary>The task with its log lines so far (a running task's too); null if there is none.</summary>
    Task<TaskEntry?> FindAsync(long id, CancellationToken cancellationToken);

    /// <summary>Calls <paramref name="handler"/> with a copy of a task when it begins, logs a line and ends.</summary>
    IDisposable Subscribe(Action<TaskEntry> handler);
}

/// <summary>The actions the control plane records as tasks (<see cref="TaskEntry.Action"/>).</summary>
public static class TaskActions
{
    public const string VmStart = "vm.start";
    public const string VmShutdown = "vm.shutdown";
    public const string VmStop = "vm.stop";
    public const string VmPause = "vm.pause";
    public const string VmResume = "vm.resume";
    public const string VmReset = "vm.reset";
    public const string VmAutostart = "vm.autostart";
    public const string VmCrashRestart = "vm.crash-restart";
    public const string DiskCreate = "disk.create";
    public const string DiskResize = "disk.resize";
    public const string LinkedClone = "disk.linked-clone";
    public const string SnapshotCreate = "snapshot.create";
    public const string SnapshotRevert = "snapshot.revert";
    public const string SnapshotDelete = "snapshot.delete";
    public const string ImageUpload = "image.upload";
    public const string DatabaseBackup = "database.backup";

    /// <summary>"Start", "Upload image"…: the action as the tasks panel names it.</summary>
    public static string Describe(string action) => action switch
    {
        VmStart => "Start",
        VmShutdown => "Shut down",
        VmStop => "Stop",
        VmPause => "Pause",
        VmResume => "Resume",
        VmReset => "Reset",
        VmAutostart => "Autostart",
        VmCrashRestart => "Restart after a crash",
        DiskCreate => "Create disk",
        DiskResize => "Grow disk",
        LinkedClone => "Make linked clone",
        SnapshotCreate => "Take snapshot",
        SnapshotRevert => "Revert to snapshot",
        SnapshotDelete => "Delete snapshot",
        ImageUpload => "Upload image",
        DatabaseBackup => "Back up database",
        _ => action,
    };
}
