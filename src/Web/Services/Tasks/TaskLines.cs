using System.Globalization;
using System.Text;

namespace Platform.Web.Services.Tasks;

/// <summary>One line of a task's log.</summary>
public sealed record TaskLine(DateTimeOffset At, string Text);

/// <summary>
/// How a task's lines are kept in <see cref="Data.TaskEntry.Log"/>: one per line, "{UTC time} {text}". Bounded, so a
/// chatty task cannot grow a row without end: a line is cut at <see cref="MaxLineLength"/>, and past
/// <see cref="MaxLines"/> the middle goes (the first lines say what it set out to do, the last why it ended).
/// </summary>
public static class TaskLines
{
    public const int MaxLineLength = 1024;
    public const int MaxLines = 200;
    public const int MaxLogLength = MaxLines * (MaxLineLength + 32);
    private const string TimeFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";

    /// <summary>The lines of <paramref name="text"/>, blank ones left out and each cut to <see cref="MaxLineLength"/>.</summary>
    public static IEnumerable<string> Split(string text) =>
        text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => !string.IsNullOrWhiteSpace(l))
            .Select(l => l.Length > MaxLineLength ? l[..(MaxLineLength - 1)] + "…" : l);

    /// <summary>
    /// Adds <paramref name="line"/>. Past <see cref="MaxLines"/> the line after the first 20 becomes "[N lines left out]"
    /// and each further line drops the one after that marker, so the head and the newest lines stay.
    /// </summary>
    public static void Append(List<TaskLine> lines, TaskLine line)
    {
        ArgumentNullException.ThrowIfNull(lines);
        const int Head = 20;
        if (lines.Count >= MaxLines)
        {
            var marker = lines[Head];
            int left = 1;
            if (marker.Text.StartsWith(MarkerStart, StringComparison.Ordinal) && marker.Text.EndsWith(MarkerEnd, StringComparison.Ordinal))
            {
                left = int.Parse(marker.Text[MarkerStart.Length..^MarkerEnd.Length], CultureInfo.InvariantCulture) + 1;
                lines.RemoveAt(Head + 1);
            }

            lines[Head] = new TaskLine(marker.At, $"{MarkerStart}{left.ToString(CultureInfo.InvariantCulture)}{MarkerEnd}");
        }

        lines.Add(line);
    }

    private const string MarkerStart = "[";
    private const string MarkerEnd = " lines left out]";

    public static string Format(IEnumerable<TaskLine> lines)
    {
        var text = new StringBuilder();
        foreach (var line in lines)
        {
            text.Append(line.At.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture)).Append(' ').Append(line.Text).Append('\n');
        }

        return text.ToString();
    }

    public static IReadOnlyList<TaskLine> Parse(string log) =>
        log.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l =>
        {
            int space = l.IndexOf(' ', StringComparison.Ordinal);
            return space > 0 && DateTimeOffset.TryParseExact(l[..space], TimeFormat, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
                ? new TaskLine(at, l[(space + 1)..])
                : new TaskLine(DateTimeOffset.MinValue, l);
        }).ToList();
}
