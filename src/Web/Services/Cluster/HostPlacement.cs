using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace Platform.Web.Services.Cluster;

/// <summary>
/// Places a grain keyed by a host's name on that host's silo (the silo whose name, <c>Platform:Cluster:HostName</c>,
/// is the key), because the grain acts on that host's VMMs, which run nowhere else. Orleans' own strategies pick any
/// compatible silo.
/// </summary>
[Serializable, GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class HostPlacement : PlacementStrategy
{
    internal static readonly HostPlacement Instance = new();
}

/// <summary>Marks a grain class for <see cref="HostPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class HostPlacementAttribute() : PlacementAttribute(HostPlacement.Instance);

/// <summary>Picks the active silo named like the grain's key; none is there when that host is not up.</summary>
internal sealed class HostPlacementDirector(IClusterMembershipService membership) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        string host = target.GrainIdentity.Key.ToString();
        var compatible = context.GetCompatibleSilos(target);
        var members = membership.CurrentSnapshot.Members;
        foreach (var silo in compatible)
        {
            if (members.TryGetValue(silo, out var member) && member.Status == SiloStatus.Active && string.Equals(member.Name, host, StringComparison.Ordinal))
            {
                return Task.FromResult(silo);
            }
        }

        throw new HostUnreachableException(host);
    }
}

/// <summary>A host's agent was called while that host is not an active member of the cluster.</summary>
public sealed class HostUnreachableException(string host) : Exception($"The host {host} is unreachable: it is not an active member of the cluster.")
{
    public string Host { get; } = host;
}
