using Orleans.Configuration;
using Orleans.Hosting;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Cluster;

namespace Platform.Web.Extensions;

/// <summary>
/// The cluster (docs/cluster.md). With <c>Platform:Cluster:ConnectionString</c> set this host runs an Orleans silo in
/// the dashboard's process, with ADO.NET membership on the cluster's PostgreSQL (the tables are made at start by
/// <see cref="ClusterSchema"/>). Without it no silo starts at all: a single host pays nothing for the cluster
/// (measured in docs/cluster.md) and lists itself as the only host.
/// </summary>
public static class ClusterServiceExtensions
{
    /// <summary>The cluster's service id: one product, so one id; clusters differ by <see cref="ClusterSettings.Id"/>.</summary>
    public const string ServiceId = "platform";

    /// <summary>How often a host writes that it is alive: the Hosts list's "last heartbeat" is at most this old.</summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(10);

    public static void AddPlatformCluster(this WebApplicationBuilder builder, ClusterSettings cluster)
    {
        if (!cluster.IsConfigured)
        {
            builder.Services.AddSingleton<IClusterHosts, SingleHost>();
            return;
        }

        var address = cluster.AdvertisedAddress();
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = cluster.Id;
                o.ServiceId = ServiceId;
            });
            silo.Configure<SiloOptions>(o => o.SiloName = cluster.HostName);
            // Listens on the advertised address only: silo traffic is not yet authenticated or encrypted
            // (docs/cluster.md), so it is not offered on every interface.
            silo.ConfigureEndpoints(address, cluster.SiloPort, cluster.GatewayPort, listenOnAnyHostAddress: false);
            silo.UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = cluster.ConnectionString;
            });
            silo.Configure<ClusterMembershipOptions>(o => o.IAmAliveTablePublishTimeout = HeartbeatInterval);
            // A command for another host's VM waits as long as the action does there: a shutdown gives the guest a
            // minute by default, more than Orleans' 30 s.
            silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = CommandTimeout);
            silo.Services.AddPlacementDirector<HostPlacement, HostPlacementDirector>();
        });
        builder.Services.AddSingleton<IClusterHosts, OrleansClusterHosts>();
    }

    /// <summary>The longest a command for another host's VM may take before the caller gives up on that host.</summary>
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(3);

    /// <summary>
    /// On a cluster, every VM's runtime is <see cref="ClusterVmRuntime"/>: this host's VMs through the supervisor,
    /// other hosts' through their agent grains. After <see cref="SupervisorServiceExtensions.AddVmSupervisor"/>, whose
    /// registrations these replace; nothing on a single host.
    /// </summary>
    public static void AddClusterVmRuntime(this WebApplicationBuilder builder, ClusterSettings cluster)
    {
        if (!cluster.IsConfigured)
        {
            return;
        }

        builder.Services.AddSingleton<ClusterVmRuntime>();
        builder.Services.AddSingleton<IVmRuntime>(sp => sp.GetRequiredService<ClusterVmRuntime>());
        builder.Services.AddSingleton<IVmRuntimeInfo>(sp => sp.GetRequiredService<ClusterVmRuntime>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ClusterVmRuntime>());
    }
}
