using System.Globalization;
using Microsoft.AspNetCore.Components;
using MudBlazor;
using Platform.Web.Services.History;

namespace Platform.Web.Components.History;

/// <summary>
/// A VM's (or, with no <see cref="VmId"/>, the host's) history as MudBlazor time-series charts, with a range selector;
/// it reads the range again each time the recorder adds a point for it, so an open page follows live.
/// </summary>
public sealed partial class HistoryCharts
{
    private HistoryRange _range = HistoryRange.Hour;
    private IReadOnlyList<HistoryChartModel> _models = [];
    private string[] _labels = [];
    private string _labelStride = "";
    private bool _hasData;

    /// <summary>The VM; null for the host.</summary>
    [Parameter]
    public Guid? VmId { get; set; }

    [Parameter]
    public string TestId { get; set; } = "history";

    [Inject]
    public required HistoryStore Store { get; set; }

    [Inject]
    public required HistoryRecorder Recorder { get; set; }

    [Inject]
    public required TimeProvider Clock { get; set; }

    private IReadOnlyList<HistoryChartGroup> Groups => VmId is null ? HistoryChartGroup.Host : HistoryChartGroup.Vm;

    protected override void OnInitialized() =>
        Track(Recorder.Subscribe(point =>
        {
            if (point.VmId == VmId)
            {
                Refresh(Load);
            }
        }));

    protected override void OnParametersSet() => Load();

    private Task SelectRangeAsync(HistoryRange range)
    {
        _range = range;
        Load();
        return Task.CompletedTask;
    }

    private void Load()
    {
        var now = Clock.GetUtcNow();
        var data = VmId is { } id ? Store.ReadVm(id, _range, now) : Store.ReadHost(_range, now);
        _models = Groups.Select(g => g.Build(data)).ToList();
        _hasData = data.Values.Any(values => values.Any(v => v is not null));
        // Every point has its time (the tooltip shows it); the stylesheet shows one label in LabelStride.
        string format = _range switch
        {
            HistoryRange.Hour => "HH:mm:ss",
            HistoryRange.Day => "HH:mm",
            HistoryRange.Year => "yyyy-MM-dd",
            _ => "MM-dd HH:mm",
        };
        _labels = [.. data.Times.Select(t => t.UtcDateTime.ToString(format, CultureInfo.InvariantCulture))];
        _labelStride = $"history-x-every-{LabelStride(_range)}";
    }

    /// <summary>One x-axis label in this many points: six or seven labels whatever the range (see app.css).</summary>
    internal static int LabelStride(HistoryRange range) => range == HistoryRange.Week ? 48 : 60;

    private static LineChartOptions OptionsFor(HistoryChartModel model) => new()
    {
        YAxisTicks = model.YAxisStep,
        YAxisRequireZeroPoint = true,
        ShowLegend = model.Series.Count > 1,
        ShowDataMarkers = false,
        LineStrokeWidth = 2,
        TooltipTitleFormat = "{{SERIES_NAME}}: {{Y_VALUE}} " + model.Unit,
        TooltipSubtitleFormat = "{{X_VALUE}}",
    };
}
