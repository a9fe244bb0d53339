using System.Globalization;
using System.Text;

namespace Platform.Web.Services.Supervisor;

/// <summary>What the on-crash policy makes of one more crash.</summary>
/// <param name="Restart">True: start the VM again after <paramref name="Delay"/>. False: it crashed too often; leave it Crashed.</param>
/// <param name="CrashesInWindow">Crashes within the window, this one included.</param>
/// <param name="Delay">The pause before the restart (zero when there is none).</param>
internal readonly record struct CrashDecision(bool Restart, int CrashesInWindow, TimeSpan Delay);

/// <summary>
/// The arithmetic of the restart policy, kept apart from processes and clocks: the n-th crash within the window is
/// followed by a restart after <c>CrashRestartDelay × 2^(n-1)</c> (at most <c>CrashRestartMaxDelay</c>), until the
/// <c>CrashRestartLimit</c>-th, which is not (systemd's StartLimitBurst/StartLimitIntervalSec in spirit). Also the
/// runtime folder's record of a restart that is due, so a dashboard that stops meanwhile lets the next one do it.
/// </summary>
internal static class CrashRestarts
{
    /// <summary>In the VM's runtime folder while a restart is due: the recent crash times, one per line (ISO 8601).</summary>
    public const string PendingFileName = "restart-pending";

    /// <summary>Far more than a window's crash times ever take.</summary>
    private const int MaxPendingBytes = 64 << 10;

    /// <summary>Drops crashes older than the window from <paramref name="crashes"/>, adds one at <paramref name="now"/>, and decides.</summary>
    public static CrashDecision Decide(List<DateTimeOffset> crashes, DateTimeOffset now, SupervisorOptions options)
    {
        ArgumentNullException.ThrowIfNull(crashes);
        ArgumentNullException.ThrowIfNull(options);
        crashes.RemoveAll(at => now - at >= options.CrashRestartWindow || at > now);
        crashes.Add(now);
        int count = crashes.Count;
        return count >= Math.Max(1, options.CrashRestartLimit)
            ? new CrashDecision(false, count, TimeSpan.Zero)
            : new CrashDecision(true, count, DelayAfter(count, options));
    }

    /// <summary>The pause after the <paramref name="crashes"/>-th crash in the window: doubling from the first delay, capped.</summary>
    public static TimeSpan DelayAfter(int crashes, SupervisorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var delay = options.CrashRestartDelay;
        for (int i = 1; i < crashes && delay < options.CrashRestartMaxDelay; i++)
        {
            delay *= 2;
        }

        return delay < options.CrashRestartMaxDelay ? delay : options.CrashRestartMaxDelay;
    }

    /// <summary>"500 ms", "4 s", "10 min": a pause or window as a message says it.</summary>
    public static string Describe(TimeSpan span) =>
        span < TimeSpan.FromSeconds(1) ? $"{span.TotalMilliseconds:0} ms"
        : span < TimeSpan.FromMinutes(2) ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.#} s")
        : string.Create(CultureInfo.InvariantCulture, $"{span.TotalMinutes:0.#} min");

    /// <summary>Writes the record through the folder's descriptor (<see cref="RuntimeFolder.WriteNew"/>): the VM owns the folder.</summary>
    public static void WritePending(string runtimeDirectory, IEnumerable<DateTimeOffset> crashes)
    {
        using var folder = RuntimeFolder.OpenOrCreate(runtimeDirectory);
        string text = string.Concat(crashes.Select(at => at.ToString("O", CultureInfo.InvariantCulture) + "\n"));
        folder.WriteNew(PendingFileName, Encoding.UTF8.GetBytes(text));
    }

    /// <summary>The crash times of a restart that was due when the last dashboard stopped; null when none was (or the record is refused).</summary>
    public static List<DateTimeOffset>? ReadPending(string runtimeDirectory)
    {
        try
        {
            using var folder = RuntimeFolder.Open(runtimeDirectory);
            if (folder?.Read(PendingFileName, MaxPendingBytes) is not { } bytes)
            {
                return null;
            }

            return Encoding.UTF8.GetString(bytes).Split('\n')
                .Select(line => DateTimeOffset.TryParse(line, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at) ? at : (DateTimeOffset?)null)
                .OfType<DateTimeOffset>()
                .ToList();
        }
        catch (IOException)
        {
            return null; // The folder is not one any more: nothing was due.
        }
    }

    public static void DeletePending(string runtimeDirectory)
    {
        try
        {
            using var folder = RuntimeFolder.Open(runtimeDirectory);
            folder?.Delete(PendingFileName, RuntimeFolderNative.TypeRegular);
        }
        catch (IOException)
        {
            // No folder, no record.
        }
    }
}
