namespace Platform.Web.Services.Cluster;

/// <summary>
/// Which host a VM belongs to: the host a new VM goes to (the one its creator names, else this one) and whether a
/// stored <c>HostName</c> is this host's. A single host stores no host name: it runs every VM.
/// </summary>
public sealed class VmHostChoice(ClusterSettings cluster, IClusterHosts hosts)
{
    /// <summary>This host's name in the cluster; on a single host, the name it lists itself under.</summary>
    public string ThisHost => cluster.IsConfigured ? cluster.HostName : Environment.MachineName;

    /// <summary>Whether a VM stored with <paramref name="hostName"/> runs here: on a single host every VM; in a cluster its own and those with none.</summary>
    public bool IsLocal(string? hostName) => IsLocal(cluster, hostName);

    public static bool IsLocal(ClusterSettings cluster, string? hostName) =>
        !cluster.IsConfigured || hostName is null || string.Equals(hostName, cluster.HostName, StringComparison.Ordinal);

    /// <summary>
    /// The host name to store for a new VM whose creator asked for <paramref name="wanted"/> (null: no preference):
    /// in a cluster an active host's name, this host's unless named; on a single host null. The problem says why not.
    /// </summary>
    public async Task<(string? HostName, string? Problem)> ChooseAsync(string? wanted, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(wanted))
        {
            return (cluster.IsConfigured ? cluster.HostName : null, null);
        }

        if (!cluster.IsConfigured)
        {
            return string.Equals(wanted, ThisHost, StringComparison.Ordinal)
                ? (null, null)
                : (null, $"There is no host {wanted}: this is a single host, {ThisHost}.");
        }

        var list = await hosts.ListAsync(cancellationToken);
        var active = list.Where(h => h.State == ClusterHostState.Active).Select(h => h.Name).ToList();
        return active.Contains(wanted, StringComparer.Ordinal)
            ? (wanted, null)
            : (null, $"{wanted} is not an active host of the cluster; the active hosts are {string.Join(", ", active)}.");
    }
}
