using System.Diagnostics;
using System.Globalization;

namespace Platform.Engine.Host;

/// <summary>
/// With <c>PLATFORM_VMM_STARTUP_TRACE=1</c>, the VMM (and its jail's keeper) write one line to stderr per start-up
/// step: <c>platform-vmm: startup: STEP at T ms</c>, T on CLOCK_MONOTONIC (what <see cref="Stopwatch"/> reads), so the
/// keeper's and the VMM's lines, and a caller's own clock (Python's <c>time.monotonic</c>), compare. How the jail's
/// start-up cost was found and cut (bench/README.md); off, it costs one environment read.
/// </summary>
public static class StartupTrace
{
    public const string Variable = "PLATFORM_VMM_STARTUP_TRACE";

    private static readonly bool s_enabled = Environment.GetEnvironmentVariable(Variable) == "1";

    public static void Mark(string step)
    {
        if (s_enabled)
        {
            double ms = Stopwatch.GetTimestamp() * 1000.0 / Stopwatch.Frequency;
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"platform-vmm: startup: {step} at {ms:0.000} ms"));
        }
    }
}
