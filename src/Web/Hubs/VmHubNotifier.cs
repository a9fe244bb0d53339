using Microsoft.AspNetCore.SignalR;
using Platform.Web.Endpoints;
using Platform.Web.Security;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Tasks;

namespace Platform.Web.Hubs;

/// <summary>Forwards the runtime's state changes and counters, and the task log's changes, to <see cref="VmHub"/> watchers for as long as the app runs.</summary>
internal sealed partial class VmHubNotifier(
    IHubContext<VmHub> hub, IVmRuntime runtime, IVmRuntimeInfo info, ITaskLog tasks, HubAudience audience, ILogger<VmHubNotifier> logger)
    : IHostedService
{
    private IDisposable? _states;
    private IDisposable? _stats;
    private IDisposable? _tasks;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Only to connections whose user may see the VM now (HubAudience checks VM.Audit at each push).
        _states = runtime.Subscribe(change => Send(SendAsync(change.VmId, includeAll: true, "StateChanged", change)));
        _stats = info.SubscribeStats(sample => Send(SendAsync(sample.VmId, includeAll: false, "Stats", sample)));
        // Tasks (began, each log line, ended) as the tasks panel shows them: a VM's to its watchers, the host's to
        // watchers of all VMs with Sys.Audit.
        _tasks = tasks.Subscribe(task => Send(SendAsync(task.VmId, includeAll: true, "Task", TaskEventResponse.From(task))));
        return Task.CompletedTask;
    }

    private async Task SendAsync(Guid? vmId, bool includeAll, string method, object message)
    {
        var recipients = await audience.RecipientsAsync(vmId, includeAll);
        if (recipients.Count > 0)
        {
            await hub.Clients.Clients(recipients).SendAsync(method, message, CancellationToken.None);
        }
    }

    // Runtime callbacks must stay quick: the send completes in the background and a failure is only logged.
    private async void Send(Task sending)
    {
        try
        {
            await sending;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.SendFailed(logger, ex);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _states?.Dispose();
        _stats?.Dispose();
        _tasks?.Dispose();
        return Task.CompletedTask;
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Debug, "Could not push a VM event to hub clients")]
        public static partial void SendFailed(ILogger logger, Exception exception);
    }
}
