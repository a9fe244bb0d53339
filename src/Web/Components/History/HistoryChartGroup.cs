using System.Globalization;
using MudBlazor;
using Platform.Web.Services.History;

namespace Platform.Web.Components.History;

/// <summary>One chart of a history panel: which series it draws together and how their values are written.</summary>
/// <param name="Key">Its test id's tail (history-chart-{key}).</param>
/// <param name="Title">The chart's heading.</param>
/// <param name="Series">The series' names, as <see cref="HistorySeriesSets"/> has them.</param>
/// <param name="Binary">Bytes: scaled to KiB, MiB, GiB… by the largest value shown.</param>
/// <param name="Unit">The unit after the prefix (B, B/s, %, ops/s…).</param>
public sealed record HistoryChartGroup(string Key, string Title, IReadOnlyList<string> Series, bool Binary, string Unit)
{
    public static readonly IReadOnlyList<HistoryChartGroup> Vm =
    [
        new("cpu", "CPU, percent of one host CPU", ["cpu"], false, "%"),
        new("memory", "Memory", ["memory_used", "memory_total"], true, "B"),
        new("disk", "Disk", ["disk_read_bytes", "disk_write_bytes"], true, "B/s"),
        new("disk-ops", "Disk requests", ["disk_read_ops", "disk_write_ops"], false, "ops/s"),
        new("network", "Network", ["net_rx_bytes", "net_tx_bytes"], true, "B/s"),
        new("packets", "Packets", ["net_rx_packets", "net_tx_packets"], false, "packets/s"),
        new("exits", "Exits", ["exits"], false, "exits/s"),
    ];

    public static readonly IReadOnlyList<HistoryChartGroup> Host =
    [
        new("cpu", "CPU, percent of all CPUs", ["cpu"], false, "%"),
        new("memory", "Memory", ["memory_used", "memory_total"], true, "B"),
        new("load", "Load", ["load1", "load5", "load15"], false, "threads"),
        new("data", "Data folder's disk", ["data_used", "data_free"], true, "B"),
        new("vms", "Running VMs", ["vms_running"], false, "VMs"),
    ];

    private static readonly string[] BinaryPrefixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi"];
    private static readonly int[] NiceSteps = [1, 2, 5, 10];

    /// <summary>
    /// The chart's series drawn from <paramref name="drawn"/> (the thinned points; none left out where nothing was sampled),
    /// its unit with prefix, and the latest values, which come from <paramref name="recorded"/>: a thinned point is a
    /// bucket's minimum or maximum, not its latest sample.
    /// </summary>
    public HistoryChartModel Build(HistoryData drawn, HistoryData recorded)
    {
        ArgumentNullException.ThrowIfNull(drawn);
        ArgumentNullException.ThrowIfNull(recorded);
        var data = drawn;
        var indexes = Series.Select(name => HistorySeriesSets.IndexOf(data.Series, name)).ToArray();
        double max = indexes.SelectMany(i => data.Values[i]).Max(v => v ?? 0);
        int power = 0;
        if (Binary)
        {
            while (max >= 1024 * 0.9 && power < BinaryPrefixes.Length - 1)
            {
                max /= 1024;
                power++;
            }
        }

        double divisor = Math.Pow(1024, power);
        string unit = BinaryPrefixes[power] + Unit;
        var series = indexes.Select(i => new ChartSeries<double>
        {
            Name = data.Series[i].Title,
            // Null where nothing was sampled: the line breaks there instead of bridging a stopped VM.
            Data = new ChartData<double>(data.Values[i].Select(v => v / divisor).ToArray()),
            TooltipYValueFormat = "0.##",
        }).ToList();
        var latest = indexes.Select(i => recorded.Values[i].LastOrDefault(v => v is not null) is { } v
            ? $"{data.Series[i].Title} {Format(v / divisor)} {unit}"
            : null).OfType<string>().ToList();
        var options = new LineChartOptions
        {
            YAxisTicks = YAxisStep(max),
            YAxisRequireZeroPoint = true,
            ShowLegend = series.Count > 1,
            ShowDataMarkers = false,
            LineStrokeWidth = 2,
            TooltipTitleFormat = "{{SERIES_NAME}}: {{Y_VALUE}} " + unit,
            TooltipSubtitleFormat = "{{X_VALUE}}",
        };
        return new HistoryChartModel(this, series, unit, options, latest);
    }

    /// <summary>About four grid lines up to the largest value, on a 1-2-5 step (MudBlazor's ticks are whole numbers).</summary>
    private static int YAxisStep(double max)
    {
        double raw = Math.Max(max / 4, 1);
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = NiceSteps.Select(m => m * magnitude).First(s => s >= raw);
        return (int)Math.Max(1, step);
    }

    internal static string Format(double value) => value.ToString(value >= 100 ? "N0" : value >= 10 ? "0.#" : "0.##", CultureInfo.InvariantCulture);
}

/// <summary>
/// What one chart draws: <see cref="Series"/> in <see cref="Unit"/>, its options (made once per load, so a re-render
/// hands MudChart the same object), and the latest values in words.
/// </summary>
public sealed record HistoryChartModel(HistoryChartGroup Group, List<ChartSeries<double>> Series, string Unit, LineChartOptions Options, IReadOnlyList<string> Latest);
