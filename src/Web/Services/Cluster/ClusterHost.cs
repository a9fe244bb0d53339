namespace Platform.Web.Services.Cluster;

/// <summary>One host of the cluster as the Hosts list shows it; a single host lists itself.</summary>
/// <param name="Name">The host's name (<c>Platform:Cluster:HostName</c>; a single host's machine name).</param>
/// <param name="Address">Where other hosts reach its silo (<c>ip:port</c>); null on a single host, which has no silo.</param>
/// <param name="State">What the membership says of it.</param>
/// <param name="LastHeartbeat">When it last wrote that it is alive (Orleans' IAmAliveTime); a single host: now.</param>
/// <param name="StartedAt">When this run of it started.</param>
/// <param name="IsThisHost">Whether it is the host that answered.</param>
public sealed record ClusterHost(string Name, string? Address, ClusterHostState State, DateTimeOffset LastHeartbeat, DateTimeOffset StartedAt, bool IsThisHost);

/// <summary>A host's membership state, from Orleans' silo status.</summary>
public enum ClusterHostState
{
    /// <summary>Starting and joining the cluster.</summary>
    Joining,

    /// <summary>A member: takes part in the cluster.</summary>
    Active,

    /// <summary>Leaving in order (shutting down or stopping).</summary>
    ShuttingDown,

    /// <summary>Stopped, or declared dead by the others after missed probes.</summary>
    Dead,
}

/// <summary>The cluster's hosts, as this host sees them.</summary>
public interface IClusterHosts
{
    /// <summary>Each host once (its latest run), this one first, then by name.</summary>
    Task<IReadOnlyList<ClusterHost>> ListAsync(CancellationToken cancellationToken);
}
