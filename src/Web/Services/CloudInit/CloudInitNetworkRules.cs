using System.Net;
using System.Net.Sockets;
using Platform.Web.Data;
using Platform.Web.Services.Networks;

namespace Platform.Web.Services.CloudInit;

/// <summary>What validation knows of one NIC: its position and, on an administered network, that network's known subnet.</summary>
public sealed record CloudInitNicFacts(int Position, string? NetworkName = null, string? Subnet = null, string? Gateway = null)
{
    public static CloudInitNicFacts Of(int position, Network? network) => new(position, network?.Name, network?.Subnet, network?.Gateway);
}

/// <summary>
/// Static addresses for cloud-init's network-config: each an address with a prefix length, a gateway inside the
/// address's subnet, at most three DNS servers; and on a network whose subnet the administrator gave, an address in that
/// subnet with its prefix length that is neither its network, broadcast nor gateway address. Problems are keyed by the
/// field, <c>networks[i].ipv4Address</c> and so on (i: the entry's index in the list, as the API counts).
/// </summary>
public static class CloudInitNetworkRules
{
    /// <summary>glibc's resolver reads at most three name servers (MAXNS); more would be silently ignored.</summary>
    public const int MaxDnsServers = 3;

    private static readonly IPNetwork LinkLocalV6 = IPNetwork.Parse("fe80::/10");

    /// <param name="nics">The VM's NICs; null: not known (positions are not checked against them).</param>
    public static void Validate(IReadOnlyList<CloudInitNicInput> networks, IReadOnlyList<CloudInitNicFacts>? nics, Action<string, string> add)
    {
        ArgumentNullException.ThrowIfNull(networks);
        ArgumentNullException.ThrowIfNull(add);
        var seen = new HashSet<int>();
        for (int i = 0; i < networks.Count; i++)
        {
            var entry = networks[i];
            string key = $"networks[{i}]";
            if (entry is null)
            {
                add(key, "An entry is empty.");
                continue;
            }

            CloudInitNicFacts? nic = nics?.FirstOrDefault(n => n.Position == entry.Position);
            if (!seen.Add(entry.Position))
            {
                add($"{key}.position", $"NIC {entry.Position} is given twice.");
            }
            else if (nics is not null && nic is null)
            {
                add($"{key}.position", nics.Count == 0 ? "The VM has no NICs."
                    : $"The VM has no NIC {entry.Position}: its NICs are numbered 0 to {nics.Count - 1}.");
            }

            if (!Enum.IsDefined(entry.Mode))
            {
                add($"{key}.mode", "A NIC's mode is dhcp or static.");
            }
            else if (entry.Mode == CloudInitNicMode.Static)
            {
                CheckStatic(entry, nic, key, add);
            }
        }
    }

    private static void CheckStatic(CloudInitNicInput entry, CloudInitNicFacts? nic, string key, Action<string, string> add)
    {
        IpPrefix? v4 = null;
        if (string.IsNullOrWhiteSpace(entry.Ipv4Address))
        {
            add($"{key}.ipv4Address", "A static NIC needs its IPv4 address with the prefix length, such as 192.168.10.20/24.");
        }
        else if (!IpPrefix.TryParse(entry.Ipv4Address, out var parsed) || !parsed.IsIPv4)
        {
            add($"{key}.ipv4Address", $"{entry.Ipv4Address.Trim()} is not an IPv4 address with a prefix length, such as 192.168.10.20/24.");
        }
        else
        {
            v4 = parsed;
            AddIf(add, $"{key}.ipv4Address", OwnSubnetProblem(parsed));
        }

        CheckGateway(entry.Ipv4Gateway, v4, AddressFamily.InterNetwork, $"{key}.ipv4Gateway", "ipv4Address", add);

        IpPrefix? v6 = null;
        if (!string.IsNullOrWhiteSpace(entry.Ipv6Address))
        {
            if (!IpPrefix.TryParse(entry.Ipv6Address, out var parsed) || parsed.IsIPv4)
            {
                add($"{key}.ipv6Address", $"{entry.Ipv6Address.Trim()} is not an IPv6 address with a prefix length, such as 2001:db8:10::20/64.");
            }
            else
            {
                v6 = parsed;
            }
        }

        if (!string.IsNullOrWhiteSpace(entry.Ipv6Gateway) && string.IsNullOrWhiteSpace(entry.Ipv6Address))
        {
            add($"{key}.ipv6Gateway", "An IPv6 gateway needs the NIC's IPv6 address (ipv6Address) too.");
        }
        else
        {
            CheckGateway(entry.Ipv6Gateway, v6, AddressFamily.InterNetworkV6, $"{key}.ipv6Gateway", "ipv6Address", add);
        }

        var servers = (entry.DnsServers ?? []).Where(s => !string.IsNullOrWhiteSpace(s)).ToList();
        if (servers.Count > MaxDnsServers)
        {
            add($"{key}.dnsServers", $"At most {MaxDnsServers} DNS servers: the guest's resolver uses no more.");
        }

        foreach (string server in servers.Where(s => !IpPrefix.TryParseAddress(s, out _)))
        {
            add($"{key}.dnsServers", $"{server.Trim()} is not an IP address (a DNS server is given by its address, such as 192.168.10.1).");
        }

        // The administered network's subnet, where known, is where the guest really is: an address outside it is unreachable.
        if (nic?.Subnet is { } subnetText && IpPrefix.TryParse(subnetText, out var subnet))
        {
            var (address, field) = subnet.IsIPv4 ? (v4, "ipv4Address") : (v6, "ipv6Address");
            if (address is { } given)
            {
                AddIf(add, $"{key}.{field}", NetworkSubnetProblem(given, subnet, nic));
            }
        }
    }

    private static string? OwnSubnetProblem(IpPrefix address) =>
        !address.IsNetworkOrBroadcast ? null
        : address.Address.Equals(address.Subnet.BaseAddress)
            ? $"{address.Address} is the network address of {address.Subnet}; give the NIC one of its host addresses."
            : $"{address.Address} is the broadcast address of {address.Subnet}; give the NIC one of its host addresses.";

    private static string? NetworkSubnetProblem(IpPrefix address, IpPrefix subnet, CloudInitNicFacts nic)
    {
        string network = nic.NetworkName ?? "the network";
        if (!subnet.Contains(address.Address))
        {
            return $"{address.Address} is not in {network}'s subnet {subnet.Subnet}, where this NIC is.";
        }

        if (address.Length != subnet.Length)
        {
            return $"{network}'s subnet is {subnet.Subnet}: give the address with /{subnet.Length} ({address.Address}/{subnet.Length}).";
        }

        if (IpPrefix.TryParseAddress(nic.Gateway, out var gateway) && gateway.Equals(address.Address))
        {
            return $"{address.Address} is the gateway of {network}; give the NIC another address.";
        }

        return null;
    }

    private static void CheckGateway(string? text, IpPrefix? address, AddressFamily family, string key, string addressField, Action<string, string> add)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return;
        }

        string version = family == AddressFamily.InterNetwork ? "IPv4" : "IPv6";
        if (!IpPrefix.TryParseAddress(text, out var gateway) || gateway.AddressFamily != family)
        {
            add(key, $"{text.Trim()} is not an {version} address (a gateway is an address alone, without /prefix).");
            return;
        }

        if (address is not { } own)
        {
            return;
        }

        if (gateway.Equals(own.Address))
        {
            add(key, "The gateway cannot be the NIC's own address.");
        }
        else if (!own.Contains(gateway) && !(family == AddressFamily.InterNetworkV6 && LinkLocalV6.Contains(gateway)))
        {
            add(key, $"{gateway} is not in {own.Subnet}, the subnet of {addressField} {own}: the guest could not reach it.");
        }
        else if (new IpPrefix(gateway, own.Length).IsNetworkOrBroadcast)
        {
            add(key, $"{gateway} is the network or broadcast address of {own.Subnet}, not a router's.");
        }
    }

    private static void AddIf(Action<string, string> add, string key, string? problem)
    {
        if (problem is not null)
        {
            add(key, problem);
        }
    }
}
