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

    /// <summary>An OpenTelemetry view: drop the instrument (<see cref="MetricStreamConfiguration.Drop"/>) or leave it alone (null).</summary>
    public MetricStreamConfiguration? Filter(Instrument instrument) =>
        Factory is { } ours && instrument.Meter.Scope is IMeterFactory theirs && !ReferenceEquals(theirs, ours)
            ? MetricStreamConfiguration.Drop
            : null;
}
