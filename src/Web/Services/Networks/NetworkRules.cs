using System.Net;
using Platform.Web.Data;

namespace Platform.Web.Services.Networks;

/// <summary>The rules of networks and of a NIC's port forwards that need no database.</summary>
public static class NetworkRules
{
    public const int MaxNameLength = 64;

    /// <summary>Ports below this are the host's privileged services'; only an administrator's VMs may take them.</summary>
    public const int FirstUnprivilegedPort = 1024;

    public const int MaxForwardsPerNic = 16;

    /// <summary>Letters, digits, '-', '_' and '.', starting with a letter or digit, like a VM's name.</summary>
    public static string? CheckName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return "A network needs a name.";
        }

        if (name.Length > MaxNameLength)
        {
            return $"A network's name has at most {MaxNameLength} characters.";
        }

        return char.IsAsciiLetterOrDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
            ? null
            : "A network's name uses letters, digits, '-', '_' and '.', and starts with a letter or digit.";
    }

    /// <summary>
    /// A network's optional subnet, written as its network address (<c>192.168.10.0/24</c>, <c>2001:db8:10::/64</c>), and
    /// its optional gateway: an address of the subnet's own family inside it, and not its network or broadcast address.
    /// </summary>
    public static IEnumerable<(string Field, string Message)> CheckSubnet(string? subnet, string? gateway)
    {
        bool hasSubnet = !string.IsNullOrWhiteSpace(subnet);
        IpPrefix prefix = default;
        if (hasSubnet && !IpPrefix.TryParse(subnet, out prefix))
        {
            yield return ("subnet", $"{subnet!.Trim()} is not a subnet: give its network address and prefix length, such as 192.168.10.0/24.");
            yield break;
        }

        if (hasSubnet && !prefix.Address.Equals(prefix.Subnet.BaseAddress))
        {
            yield return ("subnet", $"Give the subnet by its network address: {prefix.Subnet}, not {prefix}.");
            yield break;
        }

        if (string.IsNullOrWhiteSpace(gateway))
        {
            yield break;
        }

        if (!hasSubnet)
        {
            yield return ("gateway", "Give the subnet too: a gateway is checked against it.");
        }
        else if (!IpPrefix.TryParseAddress(gateway, out var router) || router.AddressFamily != prefix.Address.AddressFamily)
        {
            yield return ("gateway", $"{gateway.Trim()} is not an {(prefix.IsIPv4 ? "IPv4" : "IPv6")} address like the subnet's.");
        }
        else if (!prefix.Contains(router))
        {
            yield return ("gateway", $"{router} is not in the subnet {prefix.Subnet}.");
        }
        else if (new IpPrefix(router, prefix.Length).IsNetworkOrBroadcast)
        {
            yield return ("gateway", $"{router} is the network or broadcast address of {prefix.Subnet}, not a router's.");
        }
    }

    /// <summary>One port forward's own soundness: TCP or UDP, an IP address, host and guest ports 1–65535.</summary>
    public static IEnumerable<(string Field, string Message)> CheckForward(VmPortForward forward)
    {
        if (!Enum.IsDefined(forward.Protocol))
        {
            yield return ("protocol", "A forward is TCP or UDP.");
        }

        if (!IPAddress.TryParse(forward.HostAddress ?? "", out _))
        {
            yield return ("hostAddress", "Give an IP address, such as 127.0.0.1.");
        }

        if (forward.HostPort is < 1 or > 65535)
        {
            yield return ("hostPort", "A port is 1 to 65535.");
        }

        if (forward.GuestPort is < 1 or > 65535)
        {
            yield return ("guestPort", "A port is 1 to 65535.");
        }
    }

    /// <summary>
    /// A sound forward that exposes the VM: from an address other than loopback (the network reaches the guest) or from
    /// a host port below <see cref="FirstUnprivilegedPort"/> (the host's own services'). Only administrators add those.
    /// </summary>
    public static bool Exposes(VmPortForward forward) =>
        !CheckForward(forward).Any() && IPAddress.TryParse(forward.HostAddress, out var address) &&
        (!IPAddress.IsLoopback(address) || forward.HostPort < FirstUnprivilegedPort);

    /// <summary>"tcp 127.0.0.1:2222": the host end two forwards may not share.</summary>
    public static string HostEnd(VmPortForward forward) =>
        $"{forward.Protocol.ToString().ToLowerInvariant()} {forward.HostAddress}:{forward.HostPort}";
}
