using System.Globalization;
using System.Net;

namespace Platform.Contracts.Config;

/// <summary>The address a VNC listener takes: "127.0.0.1:5901", "[::1]:5901", "localhost:5901", "0.0.0.0:5901".</summary>
public static class VncAddress
{
    /// <summary>The end point, or null with <paramref name="problem"/> saying what is wrong; the port may be 0 (any free one).</summary>
    public static IPEndPoint? Parse(string? text, out string? problem)
    {
        problem = null;
        text ??= "";
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > IPEndPoint.MaxPort)
        {
            problem = $"needs ADDR:PORT, e.g. 127.0.0.1:5901 (got \"{text}\")";
            return null;
        }

        string host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        else if (host.Contains(':', StringComparison.Ordinal))
        {
            problem = $"write an IPv6 address in brackets, e.g. [::1]:5901 (got \"{text}\")";
            return null;
        }

        if (host == "localhost")
        {
            return new IPEndPoint(IPAddress.Loopback, port);
        }

        if (IPAddress.TryParse(host, out var address))
        {
            return new IPEndPoint(address, port);
        }

        problem = $"\"{host}\" is not an IP address (names other than localhost are not looked up)";
        return null;
    }
}
