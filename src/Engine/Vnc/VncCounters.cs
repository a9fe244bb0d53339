using System.Diagnostics.Metrics;

namespace Platform.Engine.Vnc;

/// <summary>
/// The VNC server's counters as <see cref="System.Diagnostics.Metrics"/> instruments, for <c>query-stats</c> and any
/// OpenTelemetry listener (one VMM per process, so no tags are needed). <see cref="VncServer"/> keeps the same
/// numbers as properties for code that holds the server.
/// </summary>
public static class VncCounters
{
    public const string MeterName = "Platform.Vnc";

    private static readonly Meter Meter = new(MeterName);

    public static readonly Counter<long> Connections = Meter.CreateCounter<long>(
        "platform.vnc.connections", description: "VNC connections accepted");

    public static readonly Counter<long> ProtocolErrors = Meter.CreateCounter<long>(
        "platform.vnc.protocol_errors", description: "VNC clients closed for a malformed or unsupported message");

    public static readonly Counter<long> AuthenticationFailures = Meter.CreateCounter<long>(
        "platform.vnc.authentication_failures", description: "VNC clients that gave a wrong password");

    public static readonly Counter<long> Updates = Meter.CreateCounter<long>(
        "platform.vnc.updates", description: "FramebufferUpdate messages sent");

    public static readonly Counter<long> BytesSent = Meter.CreateCounter<long>(
        "platform.vnc.bytes_sent", unit: "By", description: "Bytes sent to VNC clients after their handshakes");
}
