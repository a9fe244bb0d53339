using System.Diagnostics.Metrics;

namespace Platform.Web.Services.Metrics;

/// <summary>
/// The dashboard's own counters (supervisor actions, open consoles), on the meter that <c>/metrics</c> exports.
/// Static like an <c>ILogger</c> category: the places that count are deep in the supervisor and the console bridge,
/// and a counter that nobody listens to costs nothing.
/// </summary>
public static class PlatformMeter
{
    /// <summary>The meter name of every instrument this dashboard defines (VM, host and its own).</summary>
    public const string Name = "Platform";

    private static readonly Meter Meter = new(Name);

    private static readonly Counter<long> SupervisorActions = Meter.CreateCounter<long>(
        "platform.supervisor.actions", "{action}", "Commands the VM supervisor carried out (start, stop, shutdown, pause…), by outcome.");

    private static readonly UpDownCounter<long> OpenConsoles = Meter.CreateUpDownCounter<long>(
        "platform.consoles.open", "{console}", "Console WebSockets (serial, VNC) open now.");

    /// <summary>One supervisor command finished: <paramref name="succeeded"/> false when it threw.</summary>
    public static void SupervisorAction(string action, bool succeeded) =>
        SupervisorActions.Add(1, new KeyValuePair<string, object?>("action", action), new KeyValuePair<string, object?>("outcome", succeeded ? "ok" : "failed"));

    /// <summary>Counts a console as open until the returned handle is disposed.</summary>
    public static IDisposable ConsoleOpened(string kind)
    {
        var tag = new KeyValuePair<string, object?>("kind", kind);
        OpenConsoles.Add(1, tag);
        return new ConsoleClosed(tag);
    }

    private sealed class ConsoleClosed(KeyValuePair<string, object?> tag) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                OpenConsoles.Add(-1, tag);
            }
        }
    }
}
