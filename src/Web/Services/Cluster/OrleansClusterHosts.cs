using Orleans.Runtime;

namespace Platform.Web.Services.Cluster;

/// <summary>
/// The cluster's hosts from Orleans' membership: the management grain reads the membership table in PostgreSQL
/// again for each call. A host that restarted has a row per run (generation); only its latest is listed.
/// </summary>
internal sealed class OrleansClusterHosts(IGrainFactory grains, ILocalSiloDetails localSilo) : IClusterHosts
{
    public async Task<IReadOnlyList<ClusterHost>> ListAsync(CancellationToken cancellationToken)
    {
        var entries = await grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: false, cancellationToken);
        return [.. entries
            .GroupBy(e => e.SiloName, StringComparer.Ordinal)
            .Select(runs => runs.MaxBy(e => e.SiloAddress.Generation)!)
            .Select(e => new ClusterHost(
                e.SiloName,
                e.SiloAddress.Endpoint.ToString(),
                StateOf(e.Status),
                AsUtc(e.IAmAliveTime),
                AsUtc(e.StartTime),
                e.SiloAddress.Equals(localSilo.SiloAddress)))
            .OrderByDescending(h => h.IsThisHost)
            .ThenBy(h => h.Name, StringComparer.Ordinal)];
    }

    private static ClusterHostState StateOf(SiloStatus status) => status switch
    {
        SiloStatus.Active => ClusterHostState.Active,
        SiloStatus.ShuttingDown or SiloStatus.Stopping => ClusterHostState.ShuttingDown,
        SiloStatus.Dead => ClusterHostState.Dead,
        _ => ClusterHostState.Joining,
    };

    private static DateTimeOffset AsUtc(DateTime time) => new(DateTime.SpecifyKind(time, DateTimeKind.Utc), TimeSpan.Zero);
}
