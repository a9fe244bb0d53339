using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Services.Host;
using Platform.Web.Services.Runtime;
using Platform.Web.Tests.Fakes;

namespace Platform.Web.Tests.Infrastructure;

/// <summary>
/// One host of a cluster, in-process: the real app with <c>Platform:Cluster:*</c> set, so its database is the given
/// PostgreSQL database and it runs an Orleans silo on free loopback ports, named <paramref name="hostName"/>. Several
/// on one database are several hosts of one cluster. Like <see cref="PlatformAppFactory"/>, a recording runtime
/// stands in for the cluster's runtime and the data folder is a temporary one of its own; with
/// <paramref name="supervised"/>, the real one runs instead (<see cref="SupervisedAppFactory"/>'s settings): this
/// host's VMs are platform-vmm processes booting test guests, other hosts' go through their agents.
/// </summary>
public sealed class ClusterAppFactory(string connectionString, string hostName, string clusterId = "test", bool supervised = false) : WebApplicationFactory<Program>
{
    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("platform-cluster-test-").FullName;

    public string HostName { get; } = hostName;

    public int SiloPort { get; } = FreePort();

    public int GatewayPort { get; } = FreePort();

    public RecordingVmRuntime Runtime { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Platform:DataDirectory", DataDirectory);
        builder.UseSetting("Platform:Cluster:ConnectionString", connectionString);
        builder.UseSetting("Platform:Cluster:Id", clusterId);
        builder.UseSetting("Platform:Cluster:HostName", HostName);
        builder.UseSetting("Platform:Cluster:Address", IPAddress.Loopback.ToString());
        builder.UseSetting("Platform:Cluster:SiloPort", SiloPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Platform:Cluster:GatewayPort", GatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseEnvironment("Development");
        TestAccounts.Configure(builder);
        if (supervised)
        {
            builder.UseSetting("Platform:Supervisor:StatsInterval", "00:00:00.200");
            builder.UseSetting("Platform:Supervisor:QuitTimeout", "00:00:05");
        }

        builder.ConfigureTestServices(services =>
        {
            if (!supervised)
            {
                services.AddSingleton<IVmRuntime>(Runtime);
            }

            services.AddSingleton<IHostInfo>(new FixedHostInfo());
        });
    }

    /// <summary>A port nothing listens on now (the kernel's pick for port 0, released at once).</summary>
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is harmless.
        }
    }
}
