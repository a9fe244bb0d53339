using Microsoft.AspNetCore.Components;
using MudBlazor;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services.Tasks;

namespace Platform.Web.Components.Tasks;

/// <summary>
/// The task log at the bottom of every page (Proxmox's Tasks panel): the newest task in one line, collapsed; opened, the
/// <see cref="Recent"/> newest tasks with who, how long and how they stand, and a click shows one task's log lines.
/// Live: every begun, logged and ended task comes from <see cref="ITaskLog.Subscribe"/>; only tasks the user may see
/// (their VMs with VM.Audit, the host's with Sys.Audit — the event log's rule) are shown or heard.
/// </summary>
public partial class TasksPanel
{
    /// <summary>How many tasks the panel lists.</summary>
    public const int Recent = 12;

    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    private List<TaskEntry> _tasks = [];
    private TaskEntry? _shown;
    private UserAccess? _loadedFor;
    private bool _open;
    private PeriodicTimer? _timer;

    /// <summary>In a cluster the panel says which host ran each task.</summary>
    [Inject]
    public required Platform.Web.Services.Cluster.ClusterSettings Cluster { get; set; }

    [Inject]
    public required ITaskLog Tasks { get; set; }

    [Inject]
    public required TimeProvider Clock { get; set; }

    [CascadingParameter]
    public UserAccess Access { get; set; } = UserAccess.None;

    protected override void OnInitialized()
    {
        Track(Tasks.Subscribe(entry =>
        {
            if (Access.Visibility.CanSee(entry.VmId))
            {
                Refresh(() => Apply(entry));
            }
        }));
        _timer = new PeriodicTimer(Tick, Clock);
        _ = TickAsync(_timer);
    }

    protected override async Task OnParametersSetAsync()
    {
        // The first render, and a changed grant: the list is read again under the new access.
        if (!ReferenceEquals(_loadedFor, Access))
        {
            _loadedFor = Access;
            var page = Access.IsActive
                ? await Tasks.ListAsync(new TaskQuery { Take = Recent }, Access.Visibility, CancellationToken.None)
                : new TaskPage([], 0);
            _tasks = [.. page.Items];
            if (_shown is { } shown && !Access.Visibility.CanSee(shown.VmId))
            {
                _shown = null;
            }
        }
    }

    private void Apply(TaskEntry entry)
    {
        int index = _tasks.FindIndex(t => t.Id == entry.Id);
        if (index >= 0)
        {
            _tasks[index] = entry;
        }
        else
        {
            _tasks.Insert(0, entry);
            _tasks = [.. _tasks.OrderByDescending(t => t.Id).Take(Recent)];
        }

        if (_shown?.Id == entry.Id)
        {
            _shown = entry;
        }
    }

    private void Toggle() => _open = !_open;

    private async Task ShowAsync(TaskEntry task)
    {
        // The list's copies carry no lines once stored: read the task whole.
        _shown = await Tasks.FindAsync(task.Id, CancellationToken.None) ?? task;
    }

    /// <summary>Re-renders every second while a task runs, so its duration counts up.</summary>
    private async Task TickAsync(PeriodicTimer timer)
    {
        try
        {
            while (await timer.WaitForNextTickAsync())
            {
                if (_tasks.Any(t => t.Status == TaskEntryStatus.Running))
                {
                    Refresh();
                }
            }
        }
        catch (ObjectDisposedException)
        {
            // The panel went away.
        }
    }

    private string Duration(TaskEntry task)
    {
        var length = (task.EndedAt ?? Clock.GetUtcNow()) - task.StartedAt;
        return length < TimeSpan.Zero ? "0 s"
            : length.TotalSeconds < 10 ? $"{length.TotalSeconds:0.0} s"
            : length.TotalMinutes < 1 ? $"{length.TotalSeconds:0} s"
            : $"{(int)length.TotalMinutes} min {length.Seconds} s";
    }

    /// <summary>"Start web1", "Upload image debian.qcow2", "Grow disk web1 (disk 1)".</summary>
    public static string Describe(TaskEntry task)
    {
        ArgumentNullException.ThrowIfNull(task);
        string what = TaskActions.Describe(task.Action);
        return (task.VmName, task.Target) switch
        {
            ({ } vm, { } target) => $"{what} {vm} ({target})",
            ({ } vm, null) => $"{what} {vm}",
            (null, { } target) => $"{what} {target}",
            _ => what,
        };
    }

    private static string StatusText(TaskEntry task) => task.Status switch
    {
        TaskEntryStatus.Running => "running",
        TaskEntryStatus.Ok => "OK",
        _ => $"{task.Status.ToString().ToLowerInvariant()}: {task.Result}",
    };

    private static Color ColorOf(TaskEntryStatus status) => status switch
    {
        TaskEntryStatus.Running => Color.Info,
        TaskEntryStatus.Ok => Color.Success,
        TaskEntryStatus.Failed => Color.Error,
        _ => Color.Warning,
    };

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _timer?.Dispose();
        }

        base.Dispose(disposing);
    }
}
