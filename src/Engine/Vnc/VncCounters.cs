using System.Diagnostics.Metrics;

namespace Platform.Engine.Vnc;

/// <summary>
/// The VNC server's counters as <see cref="System.Diagnostics.Metrics"/> instruments, for <c>query-stats</c> and any
/// OpenTelemetry listener (one VMM per process, so no tags are needed). <see cref="VncServer"/> keeps the same
/// numbers as properties for code that holds the server.
/// </summary>
/// <remarks>
/// Servers count into <see cref="Shared"/> unless <see cref="VncServerOptions.Counters"/> gives them a set on a meter
/// of their own: a test can then listen to exactly its server's counts while other servers run alongside.
/// </remarks>
public sealed class VncCounters
{
    public const string MeterName = "Platform.Vnc";

    public VncCounters(Meter meter)
    {
        ArgumentNullException.ThrowIfNull(meter);
        Connections = meter.CreateCounter<long>("platform.vnc.connections", description: "VNC connections accepted");
        ProtocolErrors = meter.CreateCounter<long>(
            "platform.vnc.protocol_errors", description: "VNC clients closed for a malformed or unsupported message");
        AuthenticationFailures = meter.CreateCounter<long>(
            "platform.vnc.authentication_failures", description: "VNC clients that gave a wrong password");
        Updates = meter.CreateCounter<long>("platform.vnc.updates", description: "FramebufferUpdate messages sent");
        BytesSent = meter.CreateCounter<long>(
            "platform.vnc.bytes_sent", unit: "By", description: "Bytes sent to VNC clients after their handshakes");
    }

    /// <summary>The process's counters, on the <see cref="MeterName"/> meter, which lives as long as the process.</summary>
    public static VncCounters Shared { get; } = new(new Meter(MeterName));

    public Counter<long> Connections { get; }

    public Counter<long> ProtocolErrors { get; }

    public Counter<long> AuthenticationFailures { get; }

    public Counter<long> Updates { get; }

    public Counter<long> BytesSent { get; }
}
