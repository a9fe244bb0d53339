using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;

namespace Platform.Web.Services.Metrics;

/// <summary>
/// Keeps /metrics to this app's own instruments. Meters are process-wide and OpenTelemetry takes in every instrument of
/// a meter it was told the name of, merging instruments of the same name into one series, whichever app made them: with
/// two apps in one process (the tests start many) one app's /metrics showed the other's, and when that app stopped and
/// disposed its meters, OpenTelemetry ended the merged series, so this app's platform_vm_* and http_* series vanished.
/// Instruments of a meter made by another app's <see cref="IMeterFactory"/> (ours, ASP.NET Core's) are dropped; those of
/// static meters (the runtime's, <see cref="PlatformMeter"/>'s counters) have no factory and stay.
/// </summary>
internal sealed class AppMeterScope
{
    /// <summary>This app's meter factory; set before the host starts (<c>MapPlatformMetrics</c>). Until then nothing is dropped.</summary>
    public IMeterFactory? Factory { get; set; }

    /// <summary>
    /// The most series one instrument of the framework's (HTTP server, Kestrel, SignalR, the runtime) keeps. OpenTelemetry
    /// allocates every stream's points up front at its cardinality limit, 2,000 by default: about 144 KB for each of the
    /// ~70 framework streams, 10 MB of the dashboard's heap for series that number a few dozen (routes × methods ×
    /// status codes). Past the limit, points go to OpenTelemetry's overflow series rather than being lost. Our own
    /// instruments (<see cref="PlatformMeter"/>), one series per VM and device, keep the default.
    /// </summary>
    public const int FrameworkCardinalityLimit = 256;

    /// <summary>
    /// An OpenTelemetry view: drop another app's instrument (<see cref="MetricStreamConfiguration.Drop"/>), give the
    /// framework's a small cardinality limit, leave ours alone (null).
    /// </summary>
    public MetricStreamConfiguration? Filter(Instrument instrument)
    {
        if (Factory is { } ours && instrument.Meter.Scope is IMeterFactory theirs && !ReferenceEquals(theirs, ours))
        {
            return MetricStreamConfiguration.Drop;
        }

        return instrument.Meter.Name == PlatformMeter.Name ? null : new MetricStreamConfiguration { CardinalityLimit = FrameworkCardinalityLimit };
    }
}
