using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Services.Tasks;
using Platform.Web.Services.Vms;

namespace Platform.Web.Endpoints;

/// <summary>
/// <c>GET /api/v1/events</c> with <c>Accept: text/event-stream</c>: the event log as it is written, for scripts (an
/// API token) and pages alike. Each entry is one server-sent event, <c>event: vm-event</c>, <c>id:</c> the entry's
/// id and <c>data:</c> a <see cref="VmEventResponse"/>; each change of a task (begun, a log line, ended) is an
/// <c>event: task</c> with a <see cref="TaskEventResponse"/>. The caller hears only what the list would show them now: every
/// entry is checked against their current access (the permission cache is dropped on each grant change, so a grant
/// taken away stops the next entry), and the stream ends when their account, session or access ends.
/// </summary>
internal static partial class VmEventStream
{
    public const string ContentType = "text/event-stream";

    /// <summary>How long a quiet stream waits before a comment line, so proxies keep it open and a gone client is noticed.</summary>
    internal static TimeSpan Heartbeat { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Entries queued for a slow reader; past this the oldest are dropped rather than holding memory.</summary>
    private const int Backlog = 1024;

    public static bool Wants(HttpRequest request) =>
        request.Headers.Accept.Any(accept => accept?.Contains(ContentType, StringComparison.OrdinalIgnoreCase) == true);

    public static async Task WriteAsync(HttpContext http, Guid? vmId, CancellationToken cancellationToken)
    {
        var services = http.RequestServices;
        var permissions = services.GetRequiredService<IPermissionService>();
        var json = services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(VmEventStream));

        var queue = Channel.CreateBounded<Item>(new BoundedChannelOptions(Backlog)
        {
            FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true,
        });
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // Subscribe before answering, so nothing written after the client has its headers is missed.
        using var subscription = services.GetRequiredService<IVmEventLog>().Subscribe(entry =>
        {
            if (vmId is null || entry.VmId == vmId)
            {
                queue.Writer.TryWrite(new Item(entry.VmId, entry, null));
            }
        });
        // Tasks too (began, each log line, ended), as the tasks panel hears them.
        using var tasks = services.GetRequiredService<ITaskLog>().Subscribe(task =>
        {
            if (vmId is null || task.VmId == vmId)
            {
                queue.Writer.TryWrite(new Item(task.VmId, null, task));
            }
        });
        using var watch = services.GetRequiredService<AccessWatcher>().Watch(http.User, Privileges.None, null, () => ended.Cancel());

        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = ContentType;
        http.Response.Headers.CacheControl = "no-cache";
        // Buffering proxies (nginx) would hold the entries back.
        http.Response.Headers["X-Accel-Buffering"] = "no";
        await http.Response.WriteAsync(": following the event log\n\n", ended.Token);
        await http.Response.Body.FlushAsync(ended.Token);
        Log.Opened(logger, http.User.Identity?.Name, vmId);

        try
        {
            while (!ended.IsCancellationRequested)
            {
                using var quiet = CancellationTokenSource.CreateLinkedTokenSource(ended.Token);
                quiet.CancelAfter(Heartbeat);
                Item item;
                try
                {
                    item = await queue.Reader.ReadAsync(quiet.Token);
                }
                catch (OperationCanceledException) when (!ended.IsCancellationRequested)
                {
                    await http.Response.WriteAsync(": still here\n\n", ended.Token);
                    await http.Response.Body.FlushAsync(ended.Token);
                    continue;
                }

                // Asked per entry: cached, and dropped whenever a grant changes, so a revoked VM is not heard again.
                var access = await permissions.GetAccessAsync(http.User, ended.Token);
                if (!access.IsActive)
                {
                    break;
                }

                // A VM's entries and tasks for VM.Audit on it, the host's (no VM) for Sys.Audit: as the lists are filtered.
                if (!access.Visibility.CanSee(item.VmId))
                {
                    continue;
                }

                string message = item.Event is { } entry
                    ? $"id: {entry.Id}\nevent: vm-event\ndata: {JsonSerializer.Serialize(VmEventResponse.From(entry), json)}\n\n"
                    // No id: task changes are not entries of the event log, whose ids Last-Event-ID would resume from.
                    : $"event: task\ndata: {JsonSerializer.Serialize(TaskEventResponse.From(item.Task!), json)}\n\n";
                await http.Response.WriteAsync(message, ended.Token);
                await http.Response.Body.FlushAsync(ended.Token);
            }
        }
        catch (OperationCanceledException) when (ended.IsCancellationRequested)
        {
            // The client went away or lost its access: either way the stream is over.
        }
    }

    /// <summary>One thing to send: an event log entry or a task's change, with the VM it is about (null: the host).</summary>
    private sealed record Item(Guid? VmId, VmEvent? Event, TaskEntry? Task);

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Debug, "{User} follows the event log (VM {VmId})")]
        public static partial void Opened(ILogger logger, string? user, Guid? vmId);
    }
}
