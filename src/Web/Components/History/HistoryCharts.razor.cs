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

    [Inject]
    public required BrowserTimeZone TimeZone { get; set; }

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

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        // The browser's time zone is known only once the circuit runs; the first render's labels are in UTC then.
        if (firstRender && await TimeZone.LearnAsync())
        {
            Load();
            StateHasChanged();
        }
    }

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
        // The range's ~360 points, min/max-thinned to what a chart's width can show (its peaks kept).
        var drawn = HistoryThinning.MinMax(data, MaxChartPoints);
        _models = Groups.Select(g => g.Build(drawn, data)).ToList();
        _hasData = data.Values.Any(values => values.Any(v => v is not null));
        // Every point has its time (the tooltip shows it); the stylesheet shows one label in LabelStride.
        string format = _range switch
        {
            HistoryRange.Hour => "HH:mm:ss",
            HistoryRange.Day => "HH:mm",
            HistoryRange.Year => "yyyy-MM-dd",
            _ => "MM-dd HH:mm",
        };
        var zone = TimeZone.Zone;
        _labels = [.. drawn.Times.Select(t => TimeZoneInfo.ConvertTime(t, zone).ToString(format, CultureInfo.InvariantCulture))];
        _labelStride = $"history-x-every-{LabelStride(_range)}";
    }

    /// <summary>
    /// Points per chart at most: about one per 4-5 pixels of a chart a third or half of a wide screen across. Each point
    /// is a hover circle with three handlers and an axis label in MudBlazor's line chart, so the render time grows with it.
    /// </summary>
    internal const int MaxChartPoints = 120;

    /// <summary>
    /// One x-axis label in this many points (always a bucket's first point, so its start): six or seven labels whatever
    /// the range (see app.css); a week's 112 points take one a day.
    /// </summary>
    internal static int LabelStride(HistoryRange range) => range == HistoryRange.Week ? 16 : 20;
}
