using System.Net;
using System.Net.Sockets;

namespace Platform.Web.Services.Cluster;

/// <summary>
/// <c>Platform:Cluster:*</c> (<c>Platform__Cluster__*</c> in the environment): the hosts' shared PostgreSQL and this
/// host's place in the Orleans cluster. Without a connection string there is no cluster: one host, SQLite, no silo —
/// everything else here is then ignored. See docs/cluster.md.
/// </summary>
public sealed class ClusterSettings
{
    public const string Section = "Platform:Cluster";

    /// <summary>Npgsql connection string of the database every host and dashboard shares (the dashboard's tables and Orleans').</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The cluster's name: silos with the same id (and database) form one cluster.</summary>
    public string Id { get; set; } = "platform";

    /// <summary>This host's name in the cluster (the Hosts list, the membership table's SiloName); the machine's name unless set.</summary>
    public string HostName { get; set; } = Environment.MachineName;

    /// <summary>
    /// The address other silos reach this one at; unless set, <see cref="HostName"/> resolved (IPv4 first). Set it
    /// when several hosts share a machine (tests) or the name resolves to a loopback address other hosts cannot reach.
    /// </summary>
    public string? Address { get; set; }

    /// <summary>Silo-to-silo port (Orleans' default 11111).</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Port for Orleans clients (a dashboard that is not a silo; later). Orleans' default 30000.</summary>
    public int GatewayPort { get; set; } = 30000;

    public bool IsConfigured => !string.IsNullOrWhiteSpace(ConnectionString);

    /// <summary>Every problem with the settings, in words, named by their configuration keys; empty when there is none.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (!IsConfigured)
        {
            return problems;
        }

        if (string.IsNullOrWhiteSpace(Id))
        {
            problems.Add($"{Section}:Id is empty: name the cluster (every host of one cluster uses the same id).");
        }

        if (string.IsNullOrWhiteSpace(HostName))
        {
            problems.Add($"{Section}:HostName is empty: name this host.");
        }

        CheckPort(problems, nameof(SiloPort), SiloPort);
        CheckPort(problems, nameof(GatewayPort), GatewayPort);
        if (SiloPort == GatewayPort)
        {
            problems.Add($"{Section}:SiloPort and {Section}:GatewayPort are both {SiloPort}: they must differ.");
        }

        if (Address is { Length: > 0 } address && !IPAddress.TryParse(address, out _))
        {
            problems.Add($"{Section}:Address '{address}' is not an IP address.");
        }

        try
        {
            _ = new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString);
        }
        catch (ArgumentException ex)
        {
            problems.Add($"{Section}:ConnectionString is not an Npgsql connection string: {ex.Message}");
        }

        return problems;
    }

    /// <summary>The address this silo advertises: <see cref="Address"/>, else <see cref="HostName"/> resolved.</summary>
    public IPAddress AdvertisedAddress()
    {
        if (Address is { Length: > 0 } address)
        {
            return IPAddress.Parse(address);
        }

        try
        {
            var addresses = Dns.GetHostAddresses(HostName);
            return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
                ?? addresses.FirstOrDefault()
                ?? throw new ClusterSettingsException([$"{Section}:HostName '{HostName}' resolves to no address: set {Section}:Address."]);
        }
        catch (SocketException ex)
        {
            throw new ClusterSettingsException([$"{Section}:HostName '{HostName}' does not resolve ({ex.Message}): set {Section}:Address."]);
        }
    }

    private static void CheckPort(List<string> problems, string name, int port)
    {
        if (port is < 1 or > 65535)
        {
            problems.Add($"{Section}:{name} is {port}: a TCP port is 1 to 65535.");
        }
    }
}

/// <summary>The cluster settings cannot work; the message lists every problem, for the person who started the host.</summary>
public sealed class ClusterSettingsException(IReadOnlyList<string> problems)
    : Exception("The cluster settings are wrong:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "  " + p)))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
