using Microsoft.AspNetCore.SignalR;
using Platform.Web.Services.Runtime;

namespace Platform.Web.Hubs;

/// <summary>Forwards the runtime's state changes and counters to <see cref="VmHub"/> groups for as long as the app runs.</summary>
internal sealed partial class VmHubNotifier(IHubContext<VmHub> hub, IVmRuntime runtime, IVmRuntimeInfo info, ILogger<VmHubNotifier> logger)
    : IHostedService
{
    private IDisposable? _states;
    private IDisposable? _stats;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _states = runtime.Subscribe(change => Send(
            hub.Clients.Groups(VmHub.AllVmsGroup, VmHub.VmGroup(change.VmId)).SendAsync("StateChanged", change, CancellationToken.None)));
        _stats = info.SubscribeStats(sample => Send(
            hub.Clients.Group(VmHub.VmGroup(sample.VmId)).SendAsync("Stats", sample, CancellationToken.None)));
        return Task.CompletedTask;
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
        return Task.CompletedTask;
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Debug, "Could not push a VM event to hub clients")]
        public static partial void SendFailed(ILogger logger, Exception exception);
    }
}
