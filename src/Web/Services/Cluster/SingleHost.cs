using System.Diagnostics;

namespace Platform.Web.Services.Cluster;

/// <summary>No cluster configured: the one host lists itself, alive now, started when this process did.</summary>
internal sealed class SingleHost(TimeProvider time) : IClusterHosts
{
    private static readonly DateTimeOffset StartedAt = new(Process.GetCurrentProcess().StartTime.ToUniversalTime(), TimeSpan.Zero);

    public Task<IReadOnlyList<ClusterHost>> ListAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<ClusterHost>>(
            [new ClusterHost(Environment.MachineName, null, ClusterHostState.Active, time.GetUtcNow(), StartedAt, IsThisHost: true)]);
}
