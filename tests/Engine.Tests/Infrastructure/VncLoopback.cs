using System.Net;
using System.Net.Sockets;

namespace Platform.Engine.Tests.Infrastructure;

/// <summary>
/// A loopback TCP listener on port 5900 or above: VNC clients such as gvnccapture name a display, not a port
/// (display = port − 5900), so a lower port cannot be reached with them.
/// </summary>
internal static class VncLoopback
{
    public const int FirstVncPort = 5900;

    /// <summary>Started on a port the kernel picks, or, where its ephemeral range starts below 5900, one picked here.</summary>
    public static TcpListener Listen()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        if (Port(listener) >= FirstVncPort)
        {
            return listener;
        }

        listener.Dispose();
        for (int attempt = 1; ; attempt++)
        {
            var candidate = new TcpListener(IPAddress.Loopback, Random.Shared.Next(FirstVncPort, IPEndPoint.MaxPort + 1));
            try
            {
                candidate.Start();
                return candidate;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse && attempt < 100)
            {
                candidate.Dispose();
            }
        }
    }

    public static int Port(TcpListener listener) => ((IPEndPoint)listener.LocalEndpoint).Port;
}
