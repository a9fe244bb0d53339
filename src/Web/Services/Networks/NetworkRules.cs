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
