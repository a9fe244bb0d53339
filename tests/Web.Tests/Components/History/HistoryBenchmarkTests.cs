using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Bunit;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Web.Components.History;
using Platform.Web.Endpoints;
using Platform.Web.Services.History;
using Platform.Web.Services.Runtime;

namespace Platform.Web.Tests.Components.History;

/// <summary>
/// bench/history.sh runs this: 200 VMs with a full year of history each; how long one VM's Summary charts take to be
/// served (read + JSON) and rendered (MudBlazor's charts, bUnit), per range, and what sampling 200 VMs costs, in CPU
/// time of the sampling thread (/proc/thread-self/schedstat) per 10 s tick. The figures go to the test's output and to
/// $PLATFORM_BENCH_OUT (a file) when set. It fails when a range is served in 300 ms or more or sampling costs 1 % of a
/// core or more; render times are reported, not asserted (see bench/README.md).
/// </summary>
public sealed class HistoryBenchmarkTests : DashboardTestContext
{
    private const int VmCount = 200;
    private const int Ticks = 30; // five simulated minutes: five fsyncs of every file

    [Fact]
    public async Task With_200_vms_the_summary_charts_come_in_under_300_ms_and_sampling_costs_under_1_percent_of_a_core()
    {
        var report = new List<string>();
        var now = Clock.GetUtcNow();
        var ids = FillVms(now);
        var vm = ids[VmCount / 2];

        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        var served = new List<double>();
        var rendered = new List<double>();
        foreach (var range in Enum.GetValues<HistoryRange>())
        {
            var watch = Stopwatch.StartNew();
            var data = History.ReadVm(vm, range, now);
            double readMs = watch.Elapsed.TotalMilliseconds;
            int bytes = JsonSerializer.SerializeToUtf8Bytes(HistoryResponse.From(data), json).Length;
            double servedMs = watch.Elapsed.TotalMilliseconds;
            data.Of("cpu").Should().Contain(v => v != null, $"the {range} has points");
            report.Add(string.Create(CultureInfo.InvariantCulture, $"served {range,-5}: read {readMs,6:0.00} ms, read+JSON {servedMs,6:0.00} ms ({bytes / 1024} KiB)"));
            served.Add(servedMs);
        }

        var render = Stopwatch.StartNew();
        var cut = Render<HistoryCharts>(p => p.Add(c => c.VmId, vm));
        double firstMs = render.Elapsed.TotalMilliseconds;
        cut.FindAll("path.mud-chart-line").Should().HaveCount(12, "every series of the hour has a line");
        report.Add(string.Create(CultureInfo.InvariantCulture, $"rendered Hour (first render, 7 charts): {firstMs,6:0.0} ms"));
        foreach (var range in new[] { HistoryRange.Day, HistoryRange.Week, HistoryRange.Month, HistoryRange.Year, HistoryRange.Hour })
        {
            render.Restart();
            cut.Find($"[data-testid=history-range-{range.ToString().ToLowerInvariant()}]").Click();
            double ms = render.Elapsed.TotalMilliseconds;
            cut.FindAll("path.mud-chart-line").Should().HaveCount(12);
            report.Add(string.Create(CultureInfo.InvariantCulture, $"rendered {range,-5} (range button → new charts): {ms,6:0.0} ms"));
            rendered.Add(ms);
        }

        var (cpuPercent, wallMsPerTick) = await MeasureSamplingAsync(ids, now);
        report.Add(string.Create(CultureInfo.InvariantCulture,
            $"sampling {VmCount} VMs + host every 10 s: {cpuPercent:0.000} % of one core (CPU), wall {wallMsPerTick:0.00} ms per tick, fsync each minute included"));
        report.Add(string.Create(CultureInfo.InvariantCulture, $"slowest render: {rendered.Prepend(firstMs).Max():0.0} ms (reported, not asserted: see bench/README.md)"));
        report.Add(string.Create(CultureInfo.InvariantCulture, $"load average while measured: {File.ReadAllText("/proc/loadavg").Trim()}"));
        foreach (string line in report)
        {
            Xunit.TestContext.Current.TestOutputHelper?.WriteLine(line);
        }

        if (Environment.GetEnvironmentVariable("PLATFORM_BENCH_OUT") is { Length: > 0 } path)
        {
            await File.WriteAllLinesAsync(path, report, Ct);
        }

        served.Should().OnlyContain(ms => ms < 300, "every range is served in under 300 ms");
        cpuPercent.Should().BeLessThan(1);
        // Render times are reported only: on the shared 2-core build host (load 28-44) bUnit's renders of the seven
        // charts took 1.4-8 s, which says more about the host and bUnit's HTML parsing than about the page.
    }

    /// <summary>Every VM's file full: a year of half hours, a week of minutes and a day of 10 s points up to now.</summary>
    private List<Guid> FillVms(DateTimeOffset now)
    {
        string template = Path.Combine(Db.DataDirectory, "template.rrd");
        var random = new Random(18);
        using (var file = HistoryFile.Open(template, HistorySeriesSets.Vm.Count))
        {
            var values = new double[HistorySeriesSets.Vm.Count];
            void Add(DateTimeOffset at)
            {
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = random.NextDouble() * (i is 1 or 2 ? 1e9 : 1e5);
                }

                file.Record(at, values);
            }

            for (var at = now.AddDays(-365); at < now.AddDays(-7); at = at.AddMinutes(30))
            {
                Add(at);
            }

            for (var at = now.AddDays(-7); at < now.AddDays(-1); at = at.AddMinutes(1))
            {
                Add(at);
            }

            for (var at = now.AddDays(-1); at <= now; at = at.AddSeconds(10))
            {
                Add(at);
            }
        }

        string folder = Path.Combine(History.Folder, "vms");
        Directory.CreateDirectory(folder);
        var ids = Enumerable.Range(0, VmCount).Select(_ => Guid.NewGuid()).ToList();
        foreach (var id in ids)
        {
            File.Copy(template, Path.Combine(folder, $"{id}.rrd"));
        }

        return ids;
    }

    /// <summary>The recorder's own tick (SampleOnce) with 200 running VMs and the real host sampler, on this thread.</summary>
    private async Task<(double CpuPercent, double WallMsPerTick)> MeasureSamplingAsync(List<Guid> ids, DateTimeOffset start)
    {
        using var recorder = new HistoryRecorder(RuntimeInfo, Runtime, Db.Events, History,
            new ProcHostSampler(Db.Host, Db.Options), Clock, NullLogger<HistoryRecorder>.Instance);
        await recorder.StartAsync(Ct); // the fake clock is never advanced: no tick but ours
        foreach (var id in ids)
        {
            Runtime.SetState(id, VmPowerState.Running);
        }

        long cpuNs = 0;
        var wall = TimeSpan.Zero;
        for (int tick = 0; tick <= Ticks; tick++)
        {
            var at = start.AddSeconds(10 * (tick + 1));
            foreach (var id in ids)
            {
                RuntimeInfo.Publish(new VmStatsSample(id, Stats(tick), at));
            }

            long before = ThreadCpuNs();
            var watch = Stopwatch.StartNew();
            recorder.SampleOnce(at);
            if (tick > 0)
            {
                // The first tick only learns each VM's first sample.
                wall += watch.Elapsed;
                cpuNs += ThreadCpuNs() - before;
            }
        }

        await recorder.StopAsync(CancellationToken.None);
        double seconds = Ticks * HistoryArchives.SampleInterval.TotalSeconds;
        return (100.0 * cpuNs / 1e9 / seconds, wall.TotalMilliseconds / Ticks);
    }

    private static VmmStats Stats(int tick) => new(1, tick * 10_000L, 512 << 20, 300 << 20,
        [new VcpuStats(0, tick * 5_000L, tick * 2_000L), new VcpuStats(1, tick * 5_000L, tick * 1_000L)],
        [
            new DeviceStats("disk0", "virtio-blk", new Dictionary<string, long>
            {
                ["read_bytes"] = tick * 40_960L, ["write_bytes"] = tick * 8_192L, ["read_requests"] = tick * 10L, ["write_requests"] = tick * 2L,
            }),
            new DeviceStats("net0", "virtio-net", new Dictionary<string, long>
            {
                ["rx_frames"] = tick * 30L, ["tx_frames"] = tick * 20L, ["rx_bytes"] = tick * 45_000L, ["tx_bytes"] = tick * 3_000L,
            }),
        ]);

    /// <summary>This thread's time on a CPU so far (the first field of /proc/thread-self/schedstat, in nanoseconds).</summary>
    private static long ThreadCpuNs() =>
        long.Parse(File.ReadAllText("/proc/thread-self/schedstat").Split(' ')[0], CultureInfo.InvariantCulture);
}
