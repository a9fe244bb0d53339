using Platform.Web.Services.Runtime;

namespace Platform.Web.Tests.Fakes;

/// <summary>Stats and sockets as a test sets them; <see cref="Publish"/> plays the supervisor's periodic sample.</summary>
public sealed class FakeVmRuntimeInfo : IVmRuntimeInfo
{
    private readonly List<Action<VmStatsSample>> _handlers = [];

    public Dictionary<Guid, VmmStats> Stats { get; } = [];

    public Task<VmmStats?> GetStatsAsync(Guid vmId, CancellationToken cancellationToken) =>
        Task.FromResult(Stats.TryGetValue(vmId, out var stats) ? stats : null);

    public string? GetSocketPath(Guid vmId, VmSocket socket) => null;

    public IDisposable SubscribeStats(Action<VmStatsSample> handler)
    {
        lock (_handlers)
        {
            _handlers.Add(handler);
        }

        return new Unsubscribe(() =>
        {
            lock (_handlers)
            {
                _handlers.Remove(handler);
            }
        });
    }

    public void Publish(VmStatsSample sample)
    {
        Action<VmStatsSample>[] handlers;
        lock (_handlers)
        {
            handlers = [.. _handlers];
        }

        foreach (var handler in handlers)
        {
            handler(sample);
        }
    }

    private sealed class Unsubscribe(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
