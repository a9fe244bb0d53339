using Microsoft.JSInterop;

namespace Platform.Web.Components;

/// <summary>
/// The time zone of the browser on the other end of a circuit (one per circuit), so pages show times as the user's
/// clock does rather than in UTC. Learned once through JS interop (<c>wwwroot/js/time-zone.js</c>), which works only
/// once the circuit runs: until then, and when the browser cannot tell, it is UTC.
/// </summary>
public sealed partial class BrowserTimeZone(IJSRuntime js, ILogger<BrowserTimeZone> logger)
{
    private const string ModulePath = "./js/time-zone.js";

    /// <summary>UTC until <see cref="LearnAsync"/> has asked the browser.</summary>
    public TimeZoneInfo Zone { get; private set; } = TimeZoneInfo.Utc;

    /// <summary>True once the browser was asked (whatever it answered).</summary>
    public bool IsKnown { get; private set; }

    /// <summary>
    /// Asks the browser once per circuit; call it from <c>OnAfterRenderAsync</c>. The IANA name is used when this host's
    /// time zone database has it (daylight saving then shifts as it should over a year's chart), else the browser's
    /// current offset as a fixed zone. True when the zone differs from what it was, so the caller re-renders.
    /// </summary>
    public async Task<bool> LearnAsync()
    {
        if (IsKnown)
        {
            return false;
        }

        BrowserZone? answer;
        try
        {
            await using var module = await js.InvokeAsync<IJSObjectReference>("import", ModulePath);
            answer = module is null ? null : await module.InvokeAsync<BrowserZone?>("timeZone");
        }
        catch (Exception ex) when (ex is JSException or JSDisconnectedException or TaskCanceledException or InvalidOperationException)
        {
            Log.NotLearned(logger, ex);
            return false;
        }

        IsKnown = true;
        var zone = FromBrowser(answer);
        if (zone.Id == Zone.Id && zone.BaseUtcOffset == Zone.BaseUtcOffset)
        {
            return false;
        }

        Zone = zone;
        return true;
    }

    /// <summary>The zone the browser named, else one of its current offset; UTC when it said nothing usable.</summary>
    internal static TimeZoneInfo FromBrowser(BrowserZone? answer)
    {
        if (answer?.Name is { Length: > 0 } name && TimeZoneInfo.TryFindSystemTimeZoneById(name, out var named))
        {
            return named;
        }

        if (answer is { OffsetMinutes: not 0 and >= -14 * 60 and <= 14 * 60 } fixedOffset)
        {
            var offset = TimeSpan.FromMinutes(fixedOffset.OffsetMinutes);
            string id = $"UTC{(offset < TimeSpan.Zero ? "-" : "+")}{offset.Duration():hh\\:mm}";
            return TimeZoneInfo.CreateCustomTimeZone(id, offset, id, id);
        }

        return TimeZoneInfo.Utc;
    }

    /// <summary>What <c>time-zone.js</c> answers.</summary>
    internal sealed record BrowserZone(string? Name, int OffsetMinutes);

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Debug, "Could not learn the browser's time zone; times stay in UTC")]
        public static partial void NotLearned(ILogger logger, Exception exception);
    }
}
