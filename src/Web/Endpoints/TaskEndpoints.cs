using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services.Tasks;

namespace Platform.Web.Endpoints;

/// <summary>One task of the task log; <see cref="Lines"/> only when one task is asked for.</summary>
public sealed record TaskResponse(
    long Id, string Action, string Description, Guid? VmId, string? VmName, string? Target, string? UserName,
    DateTimeOffset StartedAt, DateTimeOffset? EndedAt, TaskEntryStatus Status, string? Result, IReadOnlyList<TaskLine>? Lines)
{
    /// <summary>The host whose dashboard ran the task; null for tasks from before hosts were recorded.</summary>
    public string? Host { get; init; }

    public static TaskResponse From(TaskEntry t, bool withLines) => new(
        t.Id, t.Action, TaskActions.Describe(t.Action), t.VmId, t.VmName, t.Target, t.UserName, t.StartedAt, t.EndedAt, t.Status, t.Result,
        withLines ? TaskLines.Parse(t.Log) : null)
    {
        Host = t.Host,
    };
}

/// <summary>
/// A change to a task as the live streams carry it (the events stream's <c>event: task</c> and the hub's <c>Task</c>):
/// <see cref="Change"/> is <c>began</c>, <c>progress</c> (a log line was added: <see cref="Line"/>) or <c>ended</c>
/// (<see cref="TaskResponse.Status"/> and <see cref="TaskResponse.Result"/> say how).
/// </summary>
public sealed record TaskEventResponse(string Change, TaskResponse Task, TaskLine? Line)
{
    public const string Began = "began";
    public const string Progress = "progress";
    public const string Ended = "ended";

    public static TaskEventResponse From(TaskEntry t)
    {
        ArgumentNullException.ThrowIfNull(t);
        var task = TaskResponse.From(t, withLines: false);
        if (t.Status != TaskEntryStatus.Running)
        {
            return new TaskEventResponse(Ended, task, null);
        }

        // The newest line is the last of the log; a task that has none has only begun.
        string log = t.Log.TrimEnd('\n');
        return log.Length == 0
            ? new TaskEventResponse(Began, task, null)
            : new TaskEventResponse(Progress, task, TaskLines.Parse(log[(log.LastIndexOf('\n') + 1)..]).Single());
    }
}

public sealed record TaskPageResponse(IReadOnlyList<TaskResponse> Items, int Total);

/// <summary>
/// The task log, newest first: <c>GET /tasks</c> (filter by <c>vmId</c>, <c>status</c>, <c>since</c>) and one task with
/// its log lines at <c>GET /tasks/{taskId}</c>. Filtered as the event log is: a VM's tasks for VM.Audit on it, the
/// host's tasks (uploads, backups) for Sys.Audit; a task or VM the caller may not see is 404.
/// </summary>
internal static class TaskEndpoints
{
    public static RouteGroupBuilder MapTaskEndpoints(this RouteGroupBuilder tasks)
    {
        tasks.MapGet("/", async Task<IResult> (ITaskLog log, IPermissionService permissions, HttpContext http, CancellationToken cancellationToken,
                    Guid? vmId, TaskEntryStatus? status, DateTimeOffset? since, int skip = 0, int take = 50) =>
                {
                    var visibility = (await permissions.GetAccessAsync(http.User, cancellationToken)).Visibility;
                    if (vmId is { } id && !visibility.CanSee(id))
                    {
                        return ApiResults.NotFound("VM");
                    }

                    if (take is < 1 or > TaskLog.MaxPageSize || skip < 0)
                    {
                        return TypedResults.ValidationProblem(new Dictionary<string, string[]>
                        {
                            [skip < 0 ? "skip" : "take"] = [$"skip is 0 or more and take 1 to {TaskLog.MaxPageSize}."],
                        });
                    }

                    var page = await log.ListAsync(new TaskQuery { VmId = vmId, Status = status, Since = since, Skip = skip, Take = take },
                        visibility, cancellationToken);
                    return TypedResults.Ok(new TaskPageResponse(page.Items.Select(t => TaskResponse.From(t, withLines: false)).ToList(), page.Total));
                })
            .WithName("ListTasks")
            .WithSummary("The task log, newest first, of what you may see: filter by vmId, status (Running, Ok, Failed, Cancelled) "
                + "and since (tasks begun at or after it, ISO 8601); take at most 500")
            .Produces<TaskPageResponse>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireSignedIn();

        tasks.MapGet("/{taskId:long}", async Task<IResult> (long taskId, ITaskLog log, IPermissionService permissions, HttpContext http, CancellationToken cancellationToken) =>
                {
                    var task = await log.FindAsync(taskId, cancellationToken);
                    var visibility = (await permissions.GetAccessAsync(http.User, cancellationToken)).Visibility;
                    // One answer for "no such task" and "not yours to see", so ids tell nothing about hidden VMs.
                    return task is not null && visibility.CanSee(task.VmId)
                        ? TypedResults.Ok(TaskResponse.From(task, withLines: true))
                        : ApiResults.NotFound("task");
                })
            .WithName("GetTask")
            .WithSummary("One task with its log lines (a running task's so far)")
            .Produces<TaskResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireSignedIn();
        return tasks;
    }
}
