using Bunit;
using Platform.Web.Components;
using Platform.Web.Components.History;
using Platform.Web.Services.History;
using Platform.Web.Services.Runtime;

namespace Platform.Web.Tests.Components.History;

/// <summary>The history panel: a MudBlazor chart per group drawn from the store, the range buttons, and live points.</summary>
public sealed class HistoryChartsTests : DashboardTestContext
{
    private static double[] VmValues(double cpu) => [cpu, 300 << 20, 512 << 20, 2 << 20, 0, 10, 0, 1500, 0, 3, 0, 700];

    [Fact]
    public void Each_group_is_a_mudblazor_chart_with_its_recorded_values_scaled_to_a_readable_unit()
    {
        var vm = Guid.NewGuid();
        for (int i = 0; i < 30; i++)
        {
            History.RecordVm(vm, Clock.GetUtcNow().AddSeconds(-10 * i), VmValues(cpu: 40));
        }

        var cut = Render<HistoryCharts>(p => p.Add(c => c.VmId, vm));

        cut.FindAll("[data-testid^=history-chart-]").Should().HaveCount(HistoryChartGroup.Vm.Count);
        var cpu = cut.Find("[data-testid=history-chart-cpu]");
        cpu.QuerySelector(".mud-chart").Should().NotBeNull("it is MudBlazor's chart, not our own drawing");
        cpu.QuerySelectorAll("svg path.mud-chart-line").Should().ContainSingle("one line for the one CPU series")
            .Which.GetAttribute("d").Should().Contain(" L ", "30 points make a line");
        cpu.QuerySelectorAll(".mud-charts-xaxis text").Should().HaveCount(HistoryCharts.MaxChartPoints,
            "the hour's 360 points are thinned to 60 min/max pairs, and every point has its time for the tooltip");
        cpu.ClassList.Should().Contain("history-x-every-20", "the stylesheet shows one label in 20");
        cpu.TextContent.Should().Contain("CPU, percent of one host CPU (%)").And.Contain("last: vCPU time 40 %");
        cut.Find("[data-testid=history-chart-memory]").TextContent.Should().Contain("Memory (MiB)").And.Contain("VMM resident memory 300 MiB");
        cut.Find("[data-testid=history-chart-disk]").TextContent.Should().Contain("(MiB/s)").And.Contain("Disk read 2 MiB/s");
        cut.Find("[data-testid=history-chart-network]").TextContent.Should().Contain("(KiB/s)").And.Contain("Network in 1.46 KiB/s");
        cut.FindAll("[data-testid=history-empty]").Should().BeEmpty();
    }

    [Fact]
    public void The_range_buttons_read_the_longer_rings()
    {
        var vm = Guid.NewGuid();
        History.RecordVm(vm, Clock.GetUtcNow().AddDays(-3), VmValues(cpu: 75));

        var cut = Render<HistoryCharts>(p => p.Add(c => c.VmId, vm));
        cut.Find("[data-testid=history-empty]").TextContent.Should().Contain("Nothing recorded in this hour");
        cut.Find("[data-testid=history-chart-cpu]").TextContent.Should().Contain("no samples");

        cut.Find("[data-testid=history-range-week]").Click();

        cut.FindAll("[data-testid=history-empty]").Should().BeEmpty();
        cut.Find("[data-testid=history-chart-cpu]").TextContent.Should().Contain("75 %");
    }

    [Fact]
    public async Task A_point_the_recorder_adds_shows_at_once_while_the_panel_is_open()
    {
        var vm = Guid.NewGuid();
        Runtime.SetState(vm, VmPowerState.Running);
        var cut = Render<HistoryCharts>(p => p.Add(c => c.VmId, vm));
        var host = Render<HistoryCharts>(p => p.Add(c => c.TestId, "host-history"));
        host.FindAll("[data-testid^=history-chart-]").Should().HaveCount(HistoryChartGroup.Host.Count);
        cut.Find("[data-testid=history-chart-cpu]").TextContent.Should().Contain("no samples");
        using var ticks = new SemaphoreSlim(0);
        using var tickSubscription = Recorder.Subscribe(point =>
        {
            if (point.VmId is null)
            {
                ticks.Release();
            }
        });
        await Recorder.StartAsync(Ct);
        try
        {
            var start = Clock.GetUtcNow();
            RuntimeInfo.Publish(new VmStatsSample(vm, Stats(cpuMs: 0), start));
            Clock.Advance(HistoryArchives.SampleInterval);
            (await ticks.WaitAsync(TimeSpan.FromSeconds(10), Ct)).Should().BeTrue();
            RuntimeInfo.Publish(new VmStatsSample(vm, Stats(cpuMs: 2_500), start.AddSeconds(10)));
            Clock.Advance(HistoryArchives.SampleInterval);
            (await ticks.WaitAsync(TimeSpan.FromSeconds(10), Ct)).Should().BeTrue();

            cut.WaitForAssertion(() => cut.Find("[data-testid=history-chart-cpu]").TextContent.Should().Contain("25 %"));
            host.WaitForAssertion(() => host.Find("[data-testid=history-chart-vms]").TextContent.Should().Contain("Running VMs 1 VMs"));
        }
        finally
        {
            await Recorder.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public void Times_are_in_the_browser_s_time_zone_once_the_circuit_has_asked_it()
    {
        var vm = Guid.NewGuid();
        var now = Clock.GetUtcNow();
        for (int i = 0; i < 360; i++)
        {
            History.RecordVm(vm, now.AddSeconds(-10 * i), VmValues(cpu: 40));
        }

        JSInterop.SetupModule("./js/time-zone.js").Setup<BrowserTimeZone.BrowserZone?>("timeZone")
            .SetResult(new BrowserTimeZone.BrowserZone("Asia/Kolkata", 330));
        var cut = Render<HistoryCharts>(p => p.Add(c => c.VmId, vm));

        var kolkata = TimeZoneInfo.FindSystemTimeZoneById("Asia/Kolkata");
        var first = HistoryThinning.MinMax(History.ReadVm(vm, HistoryRange.Hour, now), HistoryCharts.MaxChartPoints).Times[0];
        string expected = TimeZoneInfo.ConvertTime(first, kolkata).ToString("HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
        cut.WaitForAssertion(() => cut.Find("[data-testid=history-zone]").TextContent.Should().Be("(Asia/Kolkata)"));
        cut.Find("[data-testid=history-chart-cpu] .mud-charts-xaxis text").TextContent.Should().Be(expected, "5:30 ahead of UTC");
        expected.Should().NotBe(first.UtcDateTime.ToString("HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void A_zone_the_host_does_not_know_is_the_browser_s_offset_and_no_answer_is_utc()
    {
        BrowserTimeZone.FromBrowser(new BrowserTimeZone.BrowserZone("Europe/Berlin", 60)).Id.Should().Be("Europe/Berlin");
        var fixedZone = BrowserTimeZone.FromBrowser(new BrowserTimeZone.BrowserZone("Nowhere/Atlantis", -330));
        fixedZone.Id.Should().Be("UTC-05:30");
        fixedZone.BaseUtcOffset.Should().Be(TimeSpan.FromMinutes(-330));
        BrowserTimeZone.FromBrowser(new BrowserTimeZone.BrowserZone(null, 0)).Should().Be(TimeZoneInfo.Utc);
        BrowserTimeZone.FromBrowser(null).Should().Be(TimeZoneInfo.Utc);
        BrowserTimeZone.FromBrowser(new BrowserTimeZone.BrowserZone(null, 100_000)).Should().Be(TimeZoneInfo.Utc, "no such offset");
    }

    private static VmmStats Stats(long cpuMs) => new(1, 1000, 64 << 20, 8 << 20, [new VcpuStats(0, 0, cpuMs)], []);
}
