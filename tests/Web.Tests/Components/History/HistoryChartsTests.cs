using Bunit;
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
        cpu.QuerySelectorAll(".mud-charts-xaxis text").Should().HaveCount(360, "every point has its time for the tooltip");
        cpu.ClassList.Should().Contain("history-x-every-60", "the stylesheet shows one label in 60");
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

    private static VmmStats Stats(long cpuMs) => new(1, 1000, 64 << 20, 8 << 20, [new VcpuStats(0, 0, cpuMs)], []);
}
