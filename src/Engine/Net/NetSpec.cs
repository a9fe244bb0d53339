using System.Globalization;
using System.Net;

namespace Platform.Engine.Net;

/// <summary>
/// <c>--net</c>'s text, QEMU's way: <c>user[,mac=M][,hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-:GUESTPORT]...</c>,
/// <c>tap=NAME[,mac=M]</c> or <c>bridge=BR[,mac=M][,vlan=N]</c>. The result is checked with the rest of the configuration by
/// <see cref="VmConfigValidator"/>; this only reads the text.
/// </summary>
/// <remarks>
/// One difference from QEMU, on purpose: a hostfwd without a host address listens on 127.0.0.1, not on every address,
/// so forwarding a port does not expose the guest to the network unless the address says so (<c>0.0.0.0</c>).
/// </remarks>
public static class NetSpec
{
    public static NicConfig Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        string[] parts = spec.Split(',');
        var nic = parts[0] switch
        {
            "user" => new NicConfig { Kind = NicKind.User },
            var p when p.StartsWith("tap=", StringComparison.Ordinal) => new NicConfig(p[4..]) { Kind = NicKind.Tap },
            var p when p.StartsWith("bridge=", StringComparison.Ordinal) => new NicConfig { Kind = NicKind.Bridge, Bridge = p[7..] },
            _ => throw new FormatException($"--net {spec}: start with user, tap=NAME or bridge=BRIDGE"),
        };

        var forwards = new List<PortForwardConfig>();
        foreach (string part in parts.Skip(1))
        {
            if (part.StartsWith("mac=", StringComparison.Ordinal))
            {
                nic.Mac = NicMac.Parse(part[4..]) is { } mac ? NicMac.Format(mac) : throw new FormatException(
                    $"--net {spec}: '{part[4..]}' is not a unicast MAC address (six hex bytes with ':', e.g. 52:54:00:12:34:56)");
            }
            else if (part.StartsWith("vlan=", StringComparison.Ordinal) && nic.Kind == NicKind.Bridge)
            {
                nic.Vlan = int.TryParse(part[5..], NumberStyles.None, CultureInfo.InvariantCulture, out int vlan) ? vlan : throw new FormatException(
                    $"--net {spec}: '{part[5..]}' is not a VLAN id (a number from {VmConfigLimits.MinVlan} to {VmConfigLimits.MaxVlan})");
            }
            else if (part.StartsWith("hostfwd=", StringComparison.Ordinal) && nic.Kind == NicKind.User)
            {
                forwards.Add(ParseForward(part[8..]) ?? throw new FormatException(
                    $"--net {spec}: '{part}' is not a port forward (hostfwd=tcp:127.0.0.1:8080-:80, or udp:, or without an address)"));
            }
            else
            {
                throw new FormatException($"--net {spec}: unknown option '{part}' (mac=, hostfwd= with user, vlan= with bridge)");
            }
        }

        nic.Forwards = forwards;
        return nic;
    }

    /// <summary><c>[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT</c>; the guest address must be left out (passt forwards to the guest's one address).</summary>
    private static PortForwardConfig? ParseForward(string text)
    {
        var protocol = ForwardProtocol.Tcp;
        if (text.StartsWith("tcp:", StringComparison.Ordinal) || text.StartsWith("udp:", StringComparison.Ordinal))
        {
            protocol = text[0] == 'u' ? ForwardProtocol.Udp : ForwardProtocol.Tcp;
            text = text[4..];
        }
        else if (text.StartsWith(':'))
        {
            text = text[1..];
        }

        int dash = text.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
        {
            return null;
        }

        string host = text[..dash], guest = text[(dash + 1)..];
        int hostColon = host.LastIndexOf(':');
        if (hostColon < 0 || !guest.StartsWith(':'))
        {
            return null;
        }

        string address = host[..hostColon].Trim('[', ']');
        if (address.Length > 0 && !IPAddress.TryParse(address, out _))
        {
            return null;
        }

        return Port(host[(hostColon + 1)..]) is { } hostPort && Port(guest[1..]) is { } guestPort
            ? new PortForwardConfig
            {
                Protocol = protocol, HostAddress = address.Length > 0 ? address : "127.0.0.1", HostPort = hostPort, GuestPort = guestPort,
            }
            : null;
    }

    private static int? Port(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port is >= 1 and <= 65535 ? port : null;
}
