using Platform.Web.Data;

namespace Platform.Web.Services.Tasks;

/// <summary>
/// One running task, from <see cref="ITaskLog.Begin"/>: <c>using var task = tasks.Begin(TaskActions.VmStart, vmId);</c>,
/// then <see cref="Log"/> what happens and end it with <see cref="Succeed"/>, <see cref="Fail"/> or <see cref="Cancel"/>
/// (or <see cref="End{T}"/> from a service's result). The first ending counts; later ones are ignored, so a
/// <c>finally</c> may end it again harmlessly. While it is open, log lines on this flow carry the task's and VM's ids.
/// </summary>
public sealed class TaskScope : IDisposable
{
    private readonly Lock _lock = new();
    private readonly List<TaskLine> _lines = [];
    private readonly TaskEntry _entry;
    private readonly Action<TaskScope> _ended;
    private readonly Action<TaskScope> _changed;
    private readonly TimeProvider _clock;
    private IDisposable? _logScope;

    internal TaskScope(TaskEntry entry, TimeProvider clock, Action<TaskScope> changed, Action<TaskScope> ended)
    {
        _entry = entry;
        _clock = clock;
        _changed = changed;
        _ended = ended;
    }

    public long Id => _entry.Id;

    public Guid? VmId => _entry.VmId;

    public string Action => _entry.Action;

    /// <summary>True once ended: what is logged afterwards is dropped.</summary>
    public bool HasEnded
    {
        get
        {
            lock (_lock)
            {
                return _entry.Status != TaskEntryStatus.Running;
            }
        }
    }

    internal void AttachLogScope(IDisposable? scope) => _logScope = scope;

    /// <summary>Adds a line (several, if <paramref name="text"/> has line breaks) to the task's log.</summary>
    public void Log(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        lock (_lock)
        {
            if (_entry.Status != TaskEntryStatus.Running)
            {
                return;
            }

            var at = _clock.GetUtcNow();
            foreach (string line in TaskLines.Split(text))
            {
                TaskLines.Append(_lines, new TaskLine(at, line));
            }
        }

        _changed(this);
    }

    public void Succeed(string? summary = null) => Finish(TaskEntryStatus.Ok, summary ?? "done");

    /// <summary>Ends the task as failed; <paramref name="reason"/> (the runtime's or the service's words) is its result and its last log line.</summary>
    public void Fail(string reason) => Finish(TaskEntryStatus.Failed, reason);

    public void Cancel(string reason) => Finish(TaskEntryStatus.Cancelled, reason);

    /// <summary>Ends the task from a service's result: succeeded with <paramref name="summary"/>, or failed with the result's reason.</summary>
    public T End<T>(T result, string? summary = null)
        where T : ServiceResult
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.Succeeded)
        {
            Succeed(summary);
        }
        else
        {
            Fail(ReasonOf(result));
        }

        return result;
    }

    /// <summary>A failed result in one line: its message, then each field's problems.</summary>
    public static string ReasonOf(ServiceResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var parts = new List<string>();
        if (result.Message is { } message)
        {
            parts.Add(message);
        }

        parts.AddRange(result.Errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"));
        return parts.Count == 0 ? result.Status.ToString() : string.Join(" ", parts);
    }

    /// <summary>Ends a task nobody ended as failed (an exception went past it), and restores the log scope.</summary>
    public void Dispose()
    {
        Finish(TaskEntryStatus.Failed, "It stopped without an outcome (an unexpected error; the dashboard's log has the details).");
        _logScope?.Dispose();
        _logScope = null;
    }

    private void Finish(TaskEntryStatus status, string result)
    {
        lock (_lock)
        {
            if (_entry.Status != TaskEntryStatus.Running)
            {
                return;
            }

            var at = _clock.GetUtcNow();
            string oneLine = string.Join(" ", TaskLines.Split(result));
            if (oneLine.Length > TaskLines.MaxLineLength)
            {
                oneLine = oneLine[..(TaskLines.MaxLineLength - 1)] + "…";
            }

            TaskLines.Append(_lines, new TaskLine(at, status == TaskEntryStatus.Ok ? $"OK: {oneLine}" : $"{status.ToString().ToUpperInvariant()}: {oneLine}"));
            _entry.Status = status;
            _entry.EndedAt = at;
            _entry.Result = oneLine;
            _entry.Log = TaskLines.Format(_lines);
        }

        _ended(this);
    }

    /// <summary>A copy of the task as it is now, with its lines so far.</summary>
    internal TaskEntry Snapshot()
    {
        lock (_lock)
        {
            return new TaskEntry
            {
                Id = _entry.Id, Action = _entry.Action, VmId = _entry.VmId, VmName = _entry.VmName, Target = _entry.Target,
                UserName = _entry.UserName, StartedAt = _entry.StartedAt, EndedAt = _entry.EndedAt, Status = _entry.Status,
                Result = _entry.Result, Log = TaskLines.Format(_lines),
            };
        }
    }
}
