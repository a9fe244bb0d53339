using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;
using Platform.Web.Endpoints;
using Platform.Web.Security;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Tasks;

namespace Platform.Web.Hubs;

/// <summary>
/// Forwards the runtime's state changes and counters, and the task log's changes, to <see cref="VmHub"/> watchers for
/// as long as the app runs. One loop sends them all, in the order they happened: finding a message's recipients may
/// read the database, so sends started side by side could overtake each other (a task's end before its start, a
/// VM's Stopped before its Running), and a client would be left showing the earlier one.
/// </summary>
internal sealed partial class VmHubNotifier(
    IHubContext<VmHub> hub, IVmRuntime runtime, IVmRuntimeInfo info, ITaskLog tasks, HubAudience audience, ILogger<VmHubNotifier> logger)
    : IHostedService
{
    private IDisposable? _states;
    private IDisposable? _stats;
    private IDisposable? _tasks;
    private readonly Channel<Push> _pushes = Channel.CreateUnbounded<Push>(new UnboundedChannelOptions { SingleReader = true });
    private Task? _sender;

    private sealed record Push(Guid? VmId, bool IncludeAll, string Method, object Message);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _sender = Task.Run(SendAllAsync, CancellationToken.None);
        // Only to connections whose user may see the VM now (HubAudience checks VM.Audit at each push).
        _states = runtime.Subscribe(change => Send(new Push(change.VmId, IncludeAll: true, "StateChanged", change)));
        _stats = info.SubscribeStats(sample => Send(new Push(sample.VmId, IncludeAll: false, "Stats", sample)));
        // Tasks (began, each log line, ended) as the tasks panel shows them: a VM's to its watchers, the host's to
        // watchers of all VMs with Sys.Audit.
        _tasks = tasks.Subscribe(task => Send(new Push(task.VmId, IncludeAll: true, "Task", TaskEventResponse.From(task))));
        return Task.CompletedTask;
    }

    // Runtime callbacks must stay quick: they only queue the push.
    private void Send(Push push) => _pushes.Writer.TryWrite(push);

    private async Task SendAllAsync()
    {
        await foreach (var push in _pushes.Reader.ReadAllAsync())
        {
            try
            {
                var recipients = await audience.RecipientsAsync(push.VmId, push.IncludeAll);
                if (recipients.Count > 0)
                {
                    await hub.Clients.Clients(recipients).SendAsync(push.Method, push.Message, CancellationToken.None);
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // A failed push is only logged: the next one goes out all the same.
                Log.SendFailed(logger, ex);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _states?.Dispose();
        _stats?.Dispose();
        _tasks?.Dispose();
        _pushes.Writer.TryComplete();
        return (_sender ?? Task.CompletedTask).WaitAsync(cancellationToken);
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Debug, "Could not push a VM event to hub clients")]
        public static partial void SendFailed(ILogger logger, Exception exception);
    }
}
